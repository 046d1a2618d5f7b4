//! EventBridge in memory: buses, rules (event patterns), targets, and PutEvents routing each
//! accepted entry, as its full envelope, to every enabled rule whose pattern matches.
//! Delivery (queues, Lambda functions, dead-letter queues) is `delivery.rs`.

mod delivery;
mod model;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::Settings;
use crate::pattern::EventPattern;
use crate::queues::Queues;
pub use delivery::LambdaTargets;
use delivery::{Deliveries, Delivery};
pub use model::*;

/// Targets per rule, as EventBridge allows.
const MAX_TARGETS: usize = 5;

struct Rule {
    info: RuleInfo,
    pattern: EventPattern,
    targets: Vec<TargetSpec>,
}

struct Bus {
    info: BusInfo,
    rules: BTreeMap<String, Rule>,
}

/// Buses, rules and targets. Cheap to clone.
#[derive(Clone)]
pub struct EventBridge {
    settings: Arc<Settings>,
    buses: Arc<Mutex<BTreeMap<String, Bus>>>,
    put_events: Arc<AtomicU64>,
    deliveries: Deliveries,
}

/// A bus name from a name or a bus ARN.
fn bus_name(reference: &str) -> &str {
    match reference.split_once(":event-bus/") {
        Some((_, name)) if reference.starts_with("arn:") => name,
        _ => reference,
    }
}

fn valid_rule_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn valid_bus_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
}

fn check_target(target: &TargetSpec) -> Result<(), EventsError> {
    let id_ok = (1..=64).contains(&target.id.len())
        && target
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !id_ok {
        return Err(EventsError::invalid(
            "Targets.Id",
            "1 to 64 letters, digits, dots, hyphens and underscores",
        ));
    }
    if delivery::TargetKind::of(&target.arn).is_none() {
        return Err(EventsError::invalid(
            "Targets.Arn",
            "only SQS queue and Lambda function targets are served locally",
        ));
    }
    if target.input.is_some() && target.input_path.is_some() {
        return Err(EventsError::invalid(
            "Targets.Input",
            "Input and InputPath are mutually exclusive",
        ));
    }
    if let Some(input) = &target.input
        && serde_json::from_str::<Value>(input).is_err()
    {
        return Err(EventsError::invalid(
            "Targets.Input",
            "must be valid JSON text",
        ));
    }
    if let Some(path) = &target.input_path
        && delivery::select(&Value::Null, path).is_none()
    {
        return Err(EventsError::invalid(
            "Targets.InputPath",
            "must be $ or a dotted path starting with $.",
        ));
    }
    Ok(())
}

impl EventBridge {
    pub(crate) fn new(
        settings: Arc<Settings>,
        queues: Queues,
        lambda: Arc<dyn LambdaTargets>,
    ) -> Self {
        let bridge = Self {
            settings: settings.clone(),
            buses: Arc::new(Mutex::new(BTreeMap::new())),
            put_events: Arc::new(AtomicU64::new(0)),
            deliveries: Deliveries::new(queues, lambda),
        };
        bridge.insert_bus("default", None);
        bridge
    }

    fn now(&self) -> DateTime<Utc> {
        (self.settings.clock)()
    }

    fn bus_arn(&self, name: &str) -> String {
        let s = &self.settings;
        format!("arn:aws:events:{}:{}:event-bus/{name}", s.region, s.account)
    }

    fn rule_arn(&self, bus: &str, name: &str) -> String {
        let s = &self.settings;
        if bus == "default" {
            format!("arn:aws:events:{}:{}:rule/{name}", s.region, s.account)
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                s.region, s.account
            )
        }
    }

    fn insert_bus(&self, name: &str, description: Option<String>) -> String {
        let info = BusInfo {
            name: name.to_owned(),
            arn: self.bus_arn(name),
            description,
            created: self.now(),
        };
        let arn = info.arn.clone();
        self.buses.lock().insert(
            name.to_owned(),
            Bus {
                info,
                rules: BTreeMap::new(),
            },
        );
        arn
    }

    /// Creates a bus; returns its ARN.
    pub fn create_bus(
        &self,
        name: &str,
        description: Option<String>,
    ) -> Result<String, EventsError> {
        if !valid_bus_name(name) || name == "default" || name.starts_with("aws.") {
            return Err(EventsError::invalid(
                "Name",
                "1 to 256 letters, digits, . - _ /, not default nor aws.*",
            ));
        }
        if self.buses.lock().contains_key(name) {
            return Err(EventsError::ResourceAlreadyExists { what: "Event bus" });
        }
        Ok(self.insert_bus(name, description))
    }

    pub fn describe_bus(&self, reference: &str) -> Result<BusInfo, EventsError> {
        self.buses
            .lock()
            .get(bus_name(reference))
            .map(|b| b.info.clone())
            .ok_or(EventsError::ResourceNotFound { what: "Event bus" })
    }

    pub fn list_buses(&self, prefix: Option<&str>) -> Vec<BusInfo> {
        self.buses
            .lock()
            .values()
            .filter(|b| prefix.is_none_or(|p| b.info.name.starts_with(p)))
            .map(|b| b.info.clone())
            .collect()
    }

    /// Deletes a bus and its rules (an absent bus is no error, as EventBridge).
    pub fn delete_bus(&self, name: &str) -> Result<(), EventsError> {
        if name == "default" {
            return Err(EventsError::invalid(
                "Name",
                "the default event bus cannot be deleted",
            ));
        }
        self.buses.lock().remove(name);
        Ok(())
    }

    fn with_bus<T>(
        &self,
        reference: &str,
        f: impl FnOnce(&mut Bus) -> Result<T, EventsError>,
    ) -> Result<T, EventsError> {
        let mut buses = self.buses.lock();
        let bus = buses
            .get_mut(bus_name(reference))
            .ok_or(EventsError::ResourceNotFound { what: "Event bus" })?;
        f(bus)
    }

    fn with_rule<T>(
        &self,
        bus: &str,
        rule: &str,
        f: impl FnOnce(&mut Rule) -> Result<T, EventsError>,
    ) -> Result<T, EventsError> {
        self.with_bus(bus, |b| {
            let rule = b
                .rules
                .get_mut(rule)
                .ok_or(EventsError::ResourceNotFound { what: "Rule" })?;
            f(rule)
        })
    }

    /// Creates or replaces a rule (its targets stay); returns its ARN.
    pub fn put_rule(&self, spec: RuleSpec) -> Result<String, EventsError> {
        if !valid_rule_name(&spec.name) {
            return Err(EventsError::invalid(
                "Name",
                "1 to 64 letters, digits, dots, hyphens and underscores",
            ));
        }
        let pattern = EventPattern::parse(&spec.pattern)?;
        let bus = bus_name(&spec.bus).to_owned();
        let arn = self.rule_arn(&bus, &spec.name);
        let info = RuleInfo {
            name: spec.name.clone(),
            arn: arn.clone(),
            bus: bus.clone(),
            pattern: spec.pattern.to_string(),
            state: spec.state,
            description: spec.description,
        };
        self.with_bus(&bus, |b| {
            let targets = b
                .rules
                .remove(&spec.name)
                .map(|r| r.targets)
                .unwrap_or_default();
            b.rules.insert(
                spec.name,
                Rule {
                    info,
                    pattern,
                    targets,
                },
            );
            Ok(())
        })?;
        Ok(arn)
    }

    pub fn describe_rule(&self, bus: &str, name: &str) -> Result<RuleInfo, EventsError> {
        self.with_rule(bus, name, |r| Ok(r.info.clone()))
    }

    /// The bus's rules whose name starts with `prefix`, in name order.
    pub fn list_rules(
        &self,
        bus: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<RuleInfo>, EventsError> {
        self.with_bus(bus, |b| {
            Ok(b.rules
                .values()
                .filter(|r| prefix.is_none_or(|p| r.info.name.starts_with(p)))
                .map(|r| r.info.clone())
                .collect())
        })
    }

    /// Deletes a rule; refused while it has targets unless `force`. An absent rule is no error.
    pub fn delete_rule(&self, bus: &str, name: &str, force: bool) -> Result<(), EventsError> {
        self.with_bus(bus, |b| {
            if b.rules.get(name).is_some_and(|r| !r.targets.is_empty()) && !force {
                return Err(EventsError::RuleHasTargets);
            }
            b.rules.remove(name);
            Ok(())
        })
    }

    /// Adds or replaces targets (by Id).
    pub fn put_targets(
        &self,
        bus: &str,
        rule: &str,
        targets: Vec<TargetSpec>,
    ) -> Result<(), EventsError> {
        targets.iter().try_for_each(check_target)?;
        self.with_rule(bus, rule, |r| {
            for target in targets {
                match r.targets.iter_mut().find(|t| t.id == target.id) {
                    Some(existing) => *existing = target,
                    None => r.targets.push(target),
                }
            }
            if r.targets.len() > MAX_TARGETS {
                return Err(EventsError::LimitExceeded {
                    what: "5 targets per rule",
                });
            }
            Ok(())
        })
    }

    /// Removes targets by Id; returns the Ids that were not there.
    pub fn remove_targets(
        &self,
        bus: &str,
        rule: &str,
        ids: &[String],
    ) -> Result<Vec<String>, EventsError> {
        self.with_rule(bus, rule, |r| {
            let missing = ids
                .iter()
                .filter(|id| !r.targets.iter().any(|t| &t.id == *id))
                .cloned()
                .collect();
            r.targets.retain(|t| !ids.contains(&t.id));
            Ok(missing)
        })
    }

    pub fn list_targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetSpec>, EventsError> {
        self.with_rule(bus, rule, |r| Ok(r.targets.clone()))
    }

    /// The envelope of an accepted entry, or the entry's error.
    fn envelope(&self, entry: &Entry) -> Result<Value, (EntryErrorCode, &'static str)> {
        let required = |v: &Option<String>, message| match v.as_deref() {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err((EntryErrorCode::InvalidArgument, message)),
        };
        let source = required(
            &entry.source,
            "Parameter Source is not valid. Reason: Source is a required argument.",
        )?;
        let detail_type = required(
            &entry.detail_type,
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        )?;
        let detail = required(
            &entry.detail,
            "Parameter Detail is not valid. Reason: Detail is a required argument.",
        )?;
        let detail: Value = match serde_json::from_str(&detail) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Err((EntryErrorCode::MalformedDetail, "Detail is malformed.")),
        };
        let time = entry.time.unwrap_or_else(|| self.now());
        Ok(json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": detail_type,
            "source": source,
            "account": self.settings.account,
            "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "region": self.settings.region,
            "resources": entry.resources,
            "detail": detail,
        }))
    }

    /// Accepts entries and routes each to the matching rules' targets. Lambda targets are
    /// invoked on spawned tasks (not awaited here); see [`EventBridge::settle`].
    pub fn put_events(&self, entries: Vec<Entry>) -> Vec<EntryResult> {
        self.put_events.fetch_add(1, Ordering::Relaxed);
        entries.iter().map(|entry| self.put_one(entry)).collect()
    }

    fn put_one(&self, entry: &Entry) -> EntryResult {
        let event = match self.envelope(entry) {
            Ok(event) => event,
            Err((code, message)) => {
                return EntryResult::Failed {
                    code,
                    message: message.to_owned(),
                };
            }
        };
        let bus = bus_name(entry.bus.as_deref().unwrap_or("default"));
        let deliveries: Option<Vec<Delivery>> = self.buses.lock().get(bus).map(|b| {
            b.rules
                .values()
                .filter(|r| r.info.state != RuleState::Disabled && r.pattern.matches(&event))
                .flat_map(|r| r.targets.iter().map(|t| Delivery::new(&r.info.arn, t)))
                .collect()
        });
        let Some(deliveries) = deliveries else {
            return EntryResult::Failed {
                code: EntryErrorCode::InvalidArgument,
                message:
                    "Parameter EventBusName is not valid. Reason: the event bus does not exist."
                        .into(),
            };
        };
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        for delivery in deliveries {
            self.deliveries.deliver(delivery, &event);
        }
        EntryResult::Accepted { event_id }
    }

    /// How many PutEvents calls (Rust or wire) were made.
    pub fn put_events_count(&self) -> u64 {
        self.put_events.load(Ordering::Relaxed)
    }

    /// Every event a target could not take, in order.
    pub fn delivery_failures(&self) -> Vec<DeliveryFailure> {
        self.deliveries.failures()
    }

    /// Waits until every spawned delivery (Lambda invocations, their retries) has finished.
    pub async fn settle(&self) {
        self.deliveries.settle().await;
    }
}

#[cfg(test)]
mod tests;
