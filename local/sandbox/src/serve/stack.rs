//! The stack `template.yaml` declares, read from the template itself for `serve`: the
//! event buses, the queues, every function (its `Handler`, the environment the template
//! gives it, its asynchronous-invocation retries and failure destination, its EventBridge
//! rules) and every state machine (its definition with the function ARNs substituted, its
//! type, its schedules). Nothing here is a second description of the stack: a function or
//! rule added to the template is served without a change to this crate.
//!
//! CloudFormation's intrinsic functions are resolved as far as the template uses them in
//! those places: `!Ref` (parameters take their defaults, a table its serve name, a bus its
//! name, a queue its name, a function its name), `!Sub` (parameters, resources and the
//! pseudo parameters) and `!GetAtt X.Arn`. Anything else there is a named [`StackError`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;
use serde_yaml::Value as Yaml;

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("template {path}: {why}")]
    Read { path: String, why: String },
    #[error("template: {resource}.{field}: {why}")]
    Field {
        resource: String,
        field: String,
        why: String,
    },
    #[error("state machine {name}: {source}")]
    Definition {
        name: String,
        #[source]
        source: stepfunctions_runner::LoadError,
    },
}

/// Where the stack runs: the names CloudFormation would substitute.
#[derive(Debug, Clone)]
pub struct StackContext {
    pub stack_name: String,
    pub region: String,
    pub account: String,
    /// The table's name (the template leaves it to CloudFormation unless a parameter names it).
    pub table: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub logical_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bus {
    pub logical_id: String,
    pub name: String,
}

/// An `EventBridgeRule` event of a function: the rule SAM creates, its target the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// As SAM names it: the function's logical id followed by the event's.
    pub name: String,
    pub bus: String,
    pub pattern: Value,
    /// The queue (name) a delivery that fails for good goes to.
    pub dead_letter_queue: Option<String>,
    pub max_retries: u32,
}

/// `EventInvokeConfig`: Lambda's own retries of an asynchronous invocation, and where the
/// event goes when they are spent.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncInvoke {
    pub max_retries: u32,
    pub on_failure_queue: Option<String>,
}

impl Default for AsyncInvoke {
    /// Lambda's defaults: two retries, no destination.
    fn default() -> Self {
        Self {
            max_retries: 2,
            on_failure_queue: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// The function's name here (deployed, CloudFormation adds the stack and a suffix).
    pub name: String,
    pub arn: String,
    pub handler: String,
    pub description: String,
    pub timeout_seconds: u64,
    pub memory_mb: u64,
    /// Globals' variables, then the function's own over them.
    pub environment: BTreeMap<String, String>,
    pub async_invoke: AsyncInvoke,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    Standard,
    Express,
}

/// A `Schedule` event of a state machine: `rate(N unit)` and its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub name: String,
    pub every: chrono::Duration,
    pub input: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub logical_id: String,
    pub name: String,
    pub machine_type: MachineType,
    /// The ASL definition, each `DefinitionSubstitutions` entry replaced by its value
    /// (a function's ARN).
    pub definition: Value,
    pub schedules: Vec<Schedule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub buses: Vec<Bus>,
    pub queues: Vec<Queue>,
    pub functions: Vec<Function>,
    pub machines: Vec<Machine>,
}

impl Stack {
    pub fn load(path: &Path, ctx: &StackContext) -> Result<Self, StackError> {
        let read_err = |why: String| StackError::Read {
            path: path.display().to_string(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read_err(e.to_string()))?;
        let doc: Yaml = serde_yaml::from_str(&text).map_err(|e| read_err(e.to_string()))?;
        let resolver = Resolver::new(&doc, ctx);
        let resources = doc["Resources"]
            .as_mapping()
            .ok_or_else(|| read_err("no Resources".into()))?;
        let mut stack = Stack {
            buses: Vec::new(),
            queues: Vec::new(),
            functions: Vec::new(),
            machines: Vec::new(),
        };
        for (id, resource) in resources {
            let id = id.as_str().unwrap_or_default();
            match resource["Type"].as_str().unwrap_or_default() {
                "AWS::Events::EventBus" => stack.buses.push(Bus {
                    logical_id: id.into(),
                    name: resolver.reference(id)?,
                }),
                "AWS::SQS::Queue" => stack.queues.push(Queue {
                    logical_id: id.into(),
                    name: resolver.reference(id)?,
                }),
                "AWS::Serverless::Function" => {
                    stack.functions.push(resolver.function(id, resource)?)
                }
                "AWS::Serverless::StateMachine" => {
                    stack.machines.push(resolver.machine(path, id, resource)?)
                }
                _ => {}
            }
        }
        Ok(stack)
    }

    pub fn function_by_arn(&self, arn: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.arn == arn)
    }
}

/// Resolves the intrinsic functions the template uses.
struct Resolver<'a> {
    doc: &'a Yaml,
    ctx: &'a StackContext,
}

impl<'a> Resolver<'a> {
    fn new(doc: &'a Yaml, ctx: &'a StackContext) -> Self {
        Self { doc, ctx }
    }

    fn field_err(resource: &str, field: &str, why: impl Into<String>) -> StackError {
        StackError::Field {
            resource: resource.into(),
            field: field.into(),
            why: why.into(),
        }
    }

    /// What `!Ref name` gives: a pseudo parameter, a parameter's default, or a resource's
    /// name.
    fn reference(&self, name: &str) -> Result<String, StackError> {
        match name {
            "AWS::StackName" => return Ok(self.ctx.stack_name.clone()),
            "AWS::Region" => return Ok(self.ctx.region.clone()),
            "AWS::AccountId" => return Ok(self.ctx.account.clone()),
            "AWS::Partition" => return Ok("aws".into()),
            _ => {}
        }
        if let Some(p) = self.doc["Parameters"].get(name) {
            return match &p["Default"] {
                Yaml::String(s) => Ok(s.clone()),
                Yaml::Number(n) => Ok(n.to_string()),
                _ => Err(Self::field_err(
                    name,
                    "Default",
                    "a parameter needs a default",
                )),
            };
        }
        let resource = &self.doc["Resources"][name];
        let props = &resource["Properties"];
        match resource["Type"].as_str() {
            Some("AWS::DynamoDB::Table") => Ok(self.ctx.table.clone()),
            Some("AWS::Events::EventBus") => self.scalar(name, "Name", &props["Name"]),
            Some("AWS::SQS::Queue") => match &props["QueueName"] {
                Yaml::Null => Ok(name.to_owned()),
                v => self.scalar(name, "QueueName", v),
            },
            Some("AWS::Serverless::Function") => match &props["FunctionName"] {
                Yaml::Null => Ok(name.to_owned()),
                v => self.scalar(name, "FunctionName", v),
            },
            Some("AWS::Serverless::StateMachine") => match &props["Name"] {
                Yaml::Null => Ok(name.to_owned()),
                v => self.scalar(name, "Name", v),
            },
            _ => Err(Self::field_err(
                name,
                "Ref",
                "not a parameter or a served resource",
            )),
        }
    }

    fn arn(&self, logical_id: &str) -> Result<String, StackError> {
        let name = self.reference(logical_id)?;
        let (region, account) = (&self.ctx.region, &self.ctx.account);
        match self.doc["Resources"][logical_id]["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                Ok(format!("arn:aws:lambda:{region}:{account}:function:{name}"))
            }
            Some("AWS::SQS::Queue") => Ok(format!("arn:aws:sqs:{region}:{account}:{name}")),
            Some("AWS::Events::EventBus") => Ok(format!(
                "arn:aws:events:{region}:{account}:event-bus/{name}"
            )),
            Some("AWS::Serverless::StateMachine") => Ok(format!(
                "arn:aws:states:{region}:{account}:stateMachine:{name}"
            )),
            _ => Err(Self::field_err(logical_id, "Arn", "no ARN served")),
        }
    }

    /// A scalar, or `!Ref`, `!Sub`, `!GetAtt X.Arn` of one.
    fn scalar(&self, resource: &str, field: &str, v: &Yaml) -> Result<String, StackError> {
        match v {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            Yaml::Tagged(t) => {
                let arg = t.value.as_str().unwrap_or_default();
                match t.tag.to_string().trim_start_matches('!') {
                    "Ref" => self.reference(arg),
                    "Sub" => self.substitute(resource, field, arg),
                    "GetAtt" => match arg.strip_suffix(".Arn") {
                        Some(id) => self.arn(id),
                        None => Err(Self::field_err(resource, field, "only !GetAtt X.Arn")),
                    },
                    _ => Err(Self::field_err(resource, field, "an unsupported function")),
                }
            }
            _ => Err(Self::field_err(resource, field, "not a scalar")),
        }
    }

    fn substitute(&self, resource: &str, field: &str, text: &str) -> Result<String, StackError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| Self::field_err(resource, field, "an unclosed ${"))?;
            let name = &after[..end];
            out.push_str(&match name.strip_suffix(".Arn") {
                Some(id) => self.arn(id)?,
                None => self.reference(name)?,
            });
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn queue_of(&self, resource: &str, field: &str, v: &Yaml) -> Result<String, StackError> {
        let arn = self.scalar(resource, field, v)?;
        arn.rsplit(':')
            .next()
            .map(str::to_owned)
            .ok_or_else(|| Self::field_err(resource, field, "not a queue ARN"))
    }

    fn environment(&self, id: &str, props: &Yaml) -> Result<BTreeMap<String, String>, StackError> {
        let mut env = BTreeMap::new();
        for vars in [
            &self.doc["Globals"]["Function"]["Environment"]["Variables"],
            &props["Environment"]["Variables"],
        ] {
            for (k, v) in vars.as_mapping().into_iter().flatten() {
                let key = k.as_str().unwrap_or_default().to_owned();
                let field = format!("Environment.{key}");
                env.insert(key, self.scalar(id, &field, v)?);
            }
        }
        Ok(env)
    }

    fn function(&self, id: &str, resource: &Yaml) -> Result<Function, StackError> {
        let props = &resource["Properties"];
        let handler = props["Handler"]
            .as_str()
            .ok_or_else(|| Self::field_err(id, "Handler", "missing"))?
            .to_owned();
        let invoke = &props["EventInvokeConfig"];
        let async_invoke = AsyncInvoke {
            max_retries: invoke["MaximumRetryAttempts"].as_u64().unwrap_or(2) as u32,
            on_failure_queue: match &invoke["DestinationConfig"]["OnFailure"]["Destination"] {
                Yaml::Null => None,
                v => Some(self.queue_of(id, "EventInvokeConfig", v)?),
            },
        };
        let mut rules = Vec::new();
        for (event_id, event) in props["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("EventBridgeRule") {
                continue;
            }
            let event_id = event_id.as_str().unwrap_or_default();
            let p = &event["Properties"];
            let pattern = serde_json::to_value(&p["Pattern"])
                .map_err(|e| Self::field_err(id, event_id, format!("pattern: {e}")))?;
            rules.push(Rule {
                name: format!("{id}{event_id}"),
                bus: match &p["EventBusName"] {
                    Yaml::Null => "default".into(),
                    v => self.scalar(id, "EventBusName", v)?,
                },
                pattern,
                dead_letter_queue: match &p["DeadLetterConfig"]["Arn"] {
                    Yaml::Null => None,
                    v => Some(self.queue_of(id, "DeadLetterConfig", v)?),
                },
                max_retries: p["RetryPolicy"]["MaximumRetryAttempts"]
                    .as_u64()
                    .unwrap_or(185) as u32,
            });
        }
        let globals = &self.doc["Globals"]["Function"];
        let number = |field: &str, default: u64| {
            props[field]
                .as_u64()
                .or_else(|| globals[field].as_u64())
                .unwrap_or(default)
        };
        Ok(Function {
            logical_id: id.into(),
            name: self.reference(id)?,
            arn: self.arn(id)?,
            handler,
            description: props["Description"].as_str().unwrap_or_default().to_owned(),
            timeout_seconds: number("Timeout", 3),
            memory_mb: number("MemorySize", 128),
            environment: self.environment(id, props)?,
            async_invoke,
            rules,
        })
    }

    fn machine(&self, path: &Path, id: &str, resource: &Yaml) -> Result<Machine, StackError> {
        let props = &resource["Properties"];
        let mut substitutions = HashMap::new();
        for (k, v) in props["DefinitionSubstitutions"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            let key = k.as_str().unwrap_or_default().to_owned();
            let value = self.scalar(id, &format!("DefinitionSubstitutions.{key}"), v)?;
            substitutions.insert(key, value);
        }
        let definition =
            stepfunctions_runner::definition_from_sam_template_file(path, id, &substitutions)
                .map_err(|source| StackError::Definition {
                    name: id.into(),
                    source,
                })?;
        let mut schedules = Vec::new();
        for (event_id, event) in props["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("Schedule") {
                continue;
            }
            let event_id = event_id.as_str().unwrap_or_default();
            let p = &event["Properties"];
            let expression = self.scalar(id, event_id, &p["Schedule"])?;
            let every = rate(&expression).ok_or_else(|| {
                Self::field_err(id, event_id, "only rate(N minutes|hours|days) is served")
            })?;
            let input = match &p["Input"] {
                Yaml::Null => Value::Object(Default::default()),
                v => serde_json::from_str(&self.scalar(id, event_id, v)?)
                    .map_err(|e| Self::field_err(id, event_id, format!("Input: {e}")))?,
            };
            schedules.push(Schedule {
                name: format!("{id}{event_id}"),
                every,
                input,
            });
        }
        Ok(Machine {
            logical_id: id.into(),
            name: self.reference(id)?,
            machine_type: match props["Type"].as_str() {
                Some("EXPRESS") => MachineType::Express,
                _ => MachineType::Standard,
            },
            definition,
            schedules,
        })
    }
}

/// `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`.
pub fn rate(expression: &str) -> Option<chrono::Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    match unit.trim() {
        "minute" | "minutes" => Some(chrono::Duration::minutes(n)),
        "hour" | "hours" => Some(chrono::Duration::hours(n)),
        "day" | "days" => Some(chrono::Duration::days(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> StackContext {
        StackContext {
            stack_name: "steward".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
            table: "steward".into(),
        }
    }

    fn stack() -> Stack {
        Stack::load(&crate::sandbox::template_path(), &ctx()).expect("the template loads")
    }

    #[test]
    fn rates_parse_and_others_do_not() {
        assert_eq!(rate("rate(5 minutes)"), Some(chrono::Duration::minutes(5)));
        assert_eq!(rate("rate(1 hour)"), Some(chrono::Duration::hours(1)));
        assert_eq!(rate("rate(2 days)"), Some(chrono::Duration::days(2)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 7 * * ? *)"), None);
    }

    #[test]
    fn the_template_gives_buses_queues_functions_machines() {
        let s = stack();
        assert_eq!(
            s.buses,
            vec![Bus {
                logical_id: "PartnerEventBus".into(),
                name: "steward-partner".into()
            }]
        );
        assert_eq!(
            s.queues,
            vec![Queue {
                logical_id: "PowerPartnerEventsDLQ".into(),
                name: "PowerPartnerEventsDLQ".into()
            }]
        );
        let power = s
            .functions
            .iter()
            .find(|f| f.logical_id == "PowerPartnerEventsFunction")
            .expect("the power function");
        assert_eq!(power.handler, "power.partner_events");
        assert_eq!(
            power.arn,
            "arn:aws:lambda:us-east-1:111122223333:function:PowerPartnerEventsFunction"
        );
        assert_eq!(power.environment["STEWARD_TABLE_NAME"], "steward");
        assert_eq!(
            power.environment["STEWARD_EVENT_BUS_NAME"],
            "steward-partner"
        );
        assert_eq!(power.environment["STEWARD_SWEEP_INTERVAL_MINUTES"], "5");
        assert_eq!(
            power.async_invoke,
            AsyncInvoke {
                max_retries: 2,
                on_failure_queue: Some("PowerPartnerEventsDLQ".into())
            }
        );
        assert_eq!(power.rules.len(), 1);
        assert_eq!(
            power.rules[0].name,
            "PowerPartnerEventsFunctionPartnerEvents"
        );
        assert_eq!(power.rules[0].bus, "steward-partner");
        assert_eq!(
            power.rules[0].dead_letter_queue.as_deref(),
            Some("PowerPartnerEventsDLQ")
        );
        assert_eq!(
            power.rules[0].pattern,
            serde_json::json!({"source": ["steward.partner"],
                "detail-type": [{"anything-but": {"prefix": "Lifecycle "}}]})
        );
        let sweep = s
            .machines
            .iter()
            .find(|m| m.logical_id == "PowerSweepStateMachine")
            .expect("the sweep machine");
        assert_eq!(sweep.name, "steward-power-sweep");
        assert_eq!(
            sweep
                .schedules
                .iter()
                .map(|s| (s.name.as_str(), s.every.num_minutes(), s.input.clone()))
                .collect::<Vec<_>>(),
            vec![
                (
                    "PowerSweepStateMachineIdleSchedule",
                    5,
                    serde_json::json!({"kind": "IDLE", "interval_minutes": 5})
                ),
                (
                    "PowerSweepStateMachineGuardSchedule",
                    15,
                    serde_json::json!({"kind": "GUARD", "interval_minutes": 15})
                ),
            ]
        );
        assert_eq!(s.machines.len(), 4);
        // Every task of every machine names a function of the stack by its ARN: 14
        // onboarding, 5 offboarding, 4 golden-image and 3 sweep functions.
        fn arns(v: &Value, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Value::String(s) if s.starts_with("arn:aws:lambda:") => {
                    out.insert(s.clone());
                }
                Value::Array(a) => a.iter().for_each(|x| arns(x, out)),
                Value::Object(o) => o.values().for_each(|x| arns(x, out)),
                _ => {}
            }
        }
        let mut named = std::collections::BTreeSet::new();
        s.machines
            .iter()
            .for_each(|m| arns(&m.definition, &mut named));
        assert_eq!(named.len(), 26);
        for arn in &named {
            assert!(s.function_by_arn(arn).is_some(), "{arn} is a function");
        }
        let text =
            serde_json::to_string(&s.machines.iter().map(|m| &m.definition).collect::<Vec<_>>())
                .unwrap_or_default();
        assert!(!text.contains("${"), "every substitution resolved");
    }
}
