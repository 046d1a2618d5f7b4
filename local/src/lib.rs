//! Steward's local sandbox: the embedded DynamoDB engine, the demo and benchmarks.

pub mod dynamo;
