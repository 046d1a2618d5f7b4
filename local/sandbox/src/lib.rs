//! Steward's local sandbox: Steward's handlers and state machines run end to end on this
//! machine, on the WorkSpaces Core emulator (`workspaces-core-emulator`), the Step Functions
//! runner (`stepfunctions-runner`) and an embedded DynamoDB engine; the demo, the simulated
//! day, the lifecycle scenario and the benchmarks are built on it.
//!
//! - [`sandbox`]: the pieces assembled, and the clocks coupled (its module docs say how).
//! - [`demo`], [`day`], [`demo_lifecycle`], [`demo_pools`], [`demo_schedule`]: `steward-local demo` and its
//!   scenarios (the onboarding told from its bus events in `demo_onboarding`);
//!   [`narrator`]: the demo telling its timeline as it happens and what it waits for.
//! - [`serve`]: `steward-local serve`, the template's stack on one endpoint behind the AWS
//!   APIs (EventBridge, Step Functions, Lambda, SQS).
//! - [`bench`]: `steward-local bench emulator` and `bench sweep`.
//! - [`dynamo`], [`wiring`], [`event_sink`]: the embedded table, handlers wired to local
//!   servers, a loopback PutEvents sink (also used by the integration tests).

pub mod bench;
pub mod day;
pub mod demo;
pub mod demo_lifecycle;
mod demo_onboarding;
pub mod demo_pools;
pub mod demo_schedule;
pub mod dynamo;
pub mod event_sink;
pub mod narrator;
pub mod sandbox;
pub mod serve;
pub mod wiring;
