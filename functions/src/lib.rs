//! Steward's Lambda entry points.
//!
//! Every function shares one binary (`steward`): the function's `Handler` setting (the
//! `_HANDLER` variable) names the route to run, which keeps the number of binaries that
//! link the AWS SDKs at one. `main` builds [`Deps`] once per cold start and hands them by
//! reference to plain `async fn handler(event, &Deps)` functions that tests and the local
//! state-machine runner call directly, through [`dispatch`].
//!
//! The ground floor, which every handler family builds on and which imports none of them
//! back: [`deps`] (what a handler is given), [`input`] (reading input, reporting failure),
//! [`record`] (the one place an action is recorded: audit record, outbound event, metric).
//! The families: [`onboarding`], [`power`], [`lifecycle`], [`query`]; [`routes`](mod@routes) puts their
//! handlers in one table; [`permissions`] says what each route needs of IAM.

pub mod deps;
pub mod input;
pub mod lifecycle;
pub mod onboarding;
pub mod permissions;
pub mod plans;
pub mod pools;
pub mod power;
pub mod query;
pub mod record;
pub mod routes;

pub use deps::Deps;
pub use input::{diagnostic, parse_input, parses};
pub use routes::{Handler, InputCheck, Route, dispatch, route, routes};
