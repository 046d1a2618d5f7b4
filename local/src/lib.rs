//! Steward's local sandbox: the embedded DynamoDB engine, the WorkSpaces Core emulator,
//! the demo and benchmarks.

pub mod demo;
pub mod dynamo;
pub mod emulator;
pub mod seed;
