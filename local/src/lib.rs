//! Steward's local sandbox: the embedded DynamoDB engine, the WorkSpaces Core
//! emulator, the demo and benchmarks.

pub mod emulator;
