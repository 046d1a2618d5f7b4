//! Steward's local sandbox: the embedded DynamoDB engine, the demo and benchmarks.

pub mod demo;
pub mod dynamo;
pub mod runner;
pub mod seed;
