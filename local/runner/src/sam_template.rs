//! Taking a state machine definition out of a SAM template.

use super::LoadError;
use serde_json::{Map, Value};
use serde_yaml::Value as Yaml;
use std::collections::HashMap;
use std::path::Path as FsPath;

const STATE_MACHINE_TYPE: &str = "AWS::Serverless::StateMachine";

/// The definition of the `AWS::Serverless::StateMachine` resource
/// `logical_id`: its inline `Definition`, or the file its `DefinitionUri`
/// names (relative paths resolve against the current directory; use
/// [`definition_from_sam_template_file`] to resolve against the template's).
/// Every `${Name}` in a string value is replaced from `substitutions`; an
/// unresolved one is refused.
pub fn definition_from_sam_template(
    template_yaml: &str,
    logical_id: &str,
    substitutions: &HashMap<String, String>,
) -> Result<Value, LoadError> {
    definition_from_sam_template_in(template_yaml, None, logical_id, substitutions)
}

/// [`definition_from_sam_template`] for a template file: `DefinitionUri`
/// resolves against the template's directory.
pub fn definition_from_sam_template_file(
    template_path: &FsPath,
    logical_id: &str,
    substitutions: &HashMap<String, String>,
) -> Result<Value, LoadError> {
    let text = std::fs::read_to_string(template_path).map_err(|source| LoadError::Io {
        path: template_path.display().to_string(),
        source,
    })?;
    definition_from_sam_template_in(&text, template_path.parent(), logical_id, substitutions)
}

fn definition_from_sam_template_in(
    template_yaml: &str,
    base_dir: Option<&FsPath>,
    logical_id: &str,
    substitutions: &HashMap<String, String>,
) -> Result<Value, LoadError> {
    let doc: Yaml = serde_yaml::from_str(template_yaml)?;
    let resource = doc
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .ok_or_else(|| {
            LoadError::SamTemplate(format!("no resource `{logical_id}` under Resources"))
        })?;
    let ty = resource
        .get("Type")
        .and_then(Yaml::as_str)
        .unwrap_or_default();
    if ty != STATE_MACHINE_TYPE {
        return Err(LoadError::SamTemplate(format!(
            "resource `{logical_id}` is a `{ty}`, not an {STATE_MACHINE_TYPE}"
        )));
    }
    let props = resource.get("Properties").ok_or_else(|| {
        LoadError::SamTemplate(format!("resource `{logical_id}` has no Properties"))
    })?;
    let definition = match (props.get("Definition"), props.get("DefinitionUri")) {
        (Some(_), Some(_)) => {
            return Err(LoadError::SamTemplate(format!(
                "resource `{logical_id}` has both Definition and DefinitionUri"
            )));
        }
        (Some(d), None) => yaml_to_json(d, "Definition")?,
        (None, Some(Yaml::String(uri))) => {
            let path = match base_dir {
                Some(dir) => dir.join(uri),
                None => FsPath::new(uri).to_path_buf(),
            };
            let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
                path: path.display().to_string(),
                source,
            })?;
            if path.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text)?
            } else {
                yaml_to_json(&serde_yaml::from_str(&text)?, "DefinitionUri")?
            }
        }
        (None, Some(_)) => {
            return Err(LoadError::SamTemplate(format!(
                "resource `{logical_id}`: only a string DefinitionUri (a local file) is supported"
            )));
        }
        (None, None) => {
            return Err(LoadError::SamTemplate(format!(
                "resource `{logical_id}` has neither Definition nor DefinitionUri"
            )));
        }
    };
    substitute(definition, substitutions)
}

/// Plain YAML to JSON; a CloudFormation tag inside a definition is refused.
fn yaml_to_json(y: &Yaml, at: &str) -> Result<Value, LoadError> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        LoadError::SamTemplate(format!(
                            "{at}: number {n} is not representable in JSON"
                        ))
                    })?
            }
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| yaml_to_json(v, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = k
                    .as_str()
                    .ok_or_else(|| LoadError::SamTemplate(format!("{at}: non-string key {k:?}")))?;
                out.insert(key.to_string(), yaml_to_json(v, &format!("{at}.{key}"))?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(t) => {
            return Err(LoadError::SamTemplate(format!(
                "{at}: CloudFormation tag `{}` inside a definition cannot be resolved locally; use DefinitionSubstitutions",
                t.tag
            )));
        }
    })
}

fn substitute(v: Value, subs: &HashMap<String, String>) -> Result<Value, LoadError> {
    Ok(match v {
        Value::String(s) => Value::String(substitute_str(&s, subs)?),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| substitute(i, subs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k, substitute(v, subs)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}

fn substitute_str(s: &str, subs: &HashMap<String, String>) -> Result<String, LoadError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| LoadError::UnresolvedSubstitution {
                name: after.to_string(),
                value: s.to_string(),
            })?;
        let name = &after[..end];
        let value = subs
            .get(name)
            .ok_or_else(|| LoadError::UnresolvedSubstitution {
                name: name.to_string(),
                value: s.to_string(),
            })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The keys of the resource's `DefinitionSubstitutions` (their values are
/// usually CloudFormation tags such as `!GetAtt Fn.Arn`), so a caller can
/// check it maps every one to a handler.
pub fn substitution_keys(template_yaml: &str, logical_id: &str) -> Result<Vec<String>, LoadError> {
    let doc: Yaml = serde_yaml::from_str(template_yaml)?;
    let subs = doc
        .get("Resources")
        .and_then(|r| r.get(logical_id))
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get("DefinitionSubstitutions"));
    Ok(match subs {
        Some(Yaml::Mapping(m)) => m
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_refuses_unresolved() {
        let subs = HashMap::from([("Fn".to_string(), "handler".to_string())]);
        assert_eq!(
            substitute_str("a-${Fn}-b", &subs).ok(),
            Some("a-handler-b".to_string())
        );
        assert!(matches!(
            substitute_str("${Other}", &subs),
            Err(LoadError::UnresolvedSubstitution { name, .. }) if name == "Other"
        ));
    }
}
