//! Steward's local sandbox: the embedded DynamoDB engine, the WorkSpaces Core emulator,
//! the Step Functions runner, the demo and benchmarks.

pub mod bench_sweep;
pub mod day;
pub mod demo;
pub mod demo_lifecycle;
pub mod dynamo;
pub mod emulator;
pub mod runner;
pub mod sandbox;
