//! SQS's operations on awsJson1_0 (the protocol the SDKs have spoken since 2023). Binary
//! attribute values travel as base64; timestamps in attributes are epoch strings.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{sqs_error, sqs_fault};
use super::{BodyError, SQS_JSON, WireResponse, page, parse};
use crate::digest::{base64_decode, base64_encode, md5_of_attributes};
use crate::queues::{
    AttributeValue, MessageAttribute, Queues, ReceiveRequest, ReceivedMessage, SendRequest,
    SqsError, attributes,
};

type Answer = Result<Value, WireResponse>;

fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WireResponse> {
    parse(body).map_err(|e| match e {
        BodyError::NotJson => sqs_fault(
            "SerializationException",
            "SerializationException",
            &e.message(),
        ),
        BodyError::Field(_) => sqs_fault(
            "InvalidParameterValue",
            "InvalidParameterValue",
            &e.message(),
        ),
    })
}

fn fail(e: SqsError) -> WireResponse {
    sqs_error(&e)
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, WireResponse> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
        fail(SqsError::MissingParameter {
            field: field.to_owned(),
        })
    })
}

pub(super) async fn handle(queues: &Queues, op: &str, body: &[u8]) -> WireResponse {
    let answer = match op {
        "CreateQueue" => create_queue(queues, body),
        "GetQueueUrl" => get_queue_url(queues, body),
        "ListQueues" => list_queues(queues, body),
        "DeleteQueue" => with_url(queues, body, Queues::delete_queue),
        "PurgeQueue" => with_url(queues, body, Queues::purge),
        "GetQueueAttributes" => get_attributes(queues, body),
        "SetQueueAttributes" => set_attributes(queues, body),
        "SendMessage" => send_message(queues, body),
        "SendMessageBatch" => send_batch(queues, body),
        "ReceiveMessage" => receive(queues, body).await,
        "DeleteMessage" => delete_message(queues, body),
        "DeleteMessageBatch" => delete_batch(queues, body),
        "ChangeMessageVisibility" => change_visibility(queues, body),
        _ => Err(sqs_fault(
            "UnknownOperationException",
            "UnknownOperationException",
            "The operation is not served locally.",
        )),
    };
    match answer {
        Ok(value) => WireResponse::ok(SQS_JSON, value),
        Err(error) => error,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueRequest {
    queue_name: Option<String>,
    queue_url: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    attribute_names: Option<Vec<String>>,
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<u32>,
}

fn create_queue(queues: &Queues, body: &[u8]) -> Answer {
    let request: QueueRequest = read(body)?;
    let name = required(&request.queue_name, "QueueName")?;
    let url = queues
        .create_queue(name, &request.attributes.unwrap_or_default())
        .map_err(fail)?;
    Ok(json!({"QueueUrl": url}))
}

fn get_queue_url(queues: &Queues, body: &[u8]) -> Answer {
    let request: QueueRequest = read(body)?;
    let name = required(&request.queue_name, "QueueName")?;
    Ok(json!({"QueueUrl": queues.queue_url(name).map_err(fail)?}))
}

fn list_queues(queues: &Queues, body: &[u8]) -> Answer {
    let request: QueueRequest = read(body)?;
    if request
        .max_results
        .is_some_and(|m| !(1..=1000).contains(&m))
    {
        return Err(fail(SqsError::InvalidParameterValue {
            field: "MaxResults".into(),
            problem: "must be between 1 and 1000",
        }));
    }
    let limit = request.max_results.map_or(1000, |m| m as usize);
    let (urls, token) = page(
        queues.list(request.queue_name_prefix.as_deref()),
        request.next_token.as_deref(),
        Some(limit),
    )
    .ok_or_else(|| {
        fail(SqsError::InvalidParameterValue {
            field: "NextToken".into(),
            problem: "is not a token this endpoint gave",
        })
    })?;
    let mut out = json!({});
    if !urls.is_empty() {
        out["QueueUrls"] = json!(urls);
    }
    if let Some(token) = token.filter(|_| request.max_results.is_some()) {
        out["NextToken"] = json!(token);
    }
    Ok(out)
}

fn with_url(queues: &Queues, body: &[u8], op: fn(&Queues, &str) -> Result<(), SqsError>) -> Answer {
    let request: QueueRequest = read(body)?;
    op(queues, required(&request.queue_url, "QueueUrl")?).map_err(fail)?;
    Ok(json!({}))
}

fn get_attributes(queues: &Queues, body: &[u8]) -> Answer {
    let request: QueueRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let names = request.attribute_names.unwrap_or_default();
    if let Some(unknown) = names.iter().find(|n| !attributes::readable(n)) {
        return Err(fail(SqsError::InvalidAttributeName {
            name: unknown.clone(),
        }));
    }
    let all = queues.attributes(url).map_err(fail)?;
    let chosen: BTreeMap<&String, &String> = all
        .iter()
        .filter(|(k, _)| names.iter().any(|n| n == "All" || n == *k))
        .collect();
    if chosen.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({"Attributes": chosen}))
}

fn set_attributes(queues: &Queues, body: &[u8]) -> Answer {
    let request: QueueRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let given = request.attributes.ok_or_else(|| {
        fail(SqsError::MissingParameter {
            field: "Attributes".into(),
        })
    })?;
    queues.set_attributes(url, &given).map_err(fail)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireAttribute {
    data_type: Option<String>,
    string_value: Option<String>,
    binary_value: Option<String>,
}

fn attributes_in(
    given: Option<BTreeMap<String, WireAttribute>>,
) -> Result<BTreeMap<String, MessageAttribute>, SqsError> {
    let invalid = |problem| SqsError::InvalidParameterValue {
        field: "MessageAttributes".into(),
        problem,
    };
    given
        .unwrap_or_default()
        .into_iter()
        .map(|(name, a)| {
            let data_type = a
                .data_type
                .ok_or(invalid("every attribute needs a DataType"))?;
            let value = if data_type.starts_with("Binary") {
                let text = a
                    .binary_value
                    .ok_or(invalid("a Binary attribute needs a BinaryValue"))?;
                AttributeValue::Binary(
                    base64_decode(&text).ok_or(invalid("a BinaryValue must be base64"))?,
                )
            } else {
                AttributeValue::String(
                    a.string_value
                        .ok_or(invalid("a String or Number attribute needs a StringValue"))?,
                )
            };
            Ok((name, MessageAttribute { data_type, value }))
        })
        .collect()
}

fn attribute_json(attribute: &MessageAttribute) -> Value {
    match &attribute.value {
        AttributeValue::String(s) => json!({"DataType": attribute.data_type, "StringValue": s}),
        AttributeValue::Binary(b) => {
            json!({"DataType": attribute.data_type, "BinaryValue": base64_encode(b)})
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendEntry {
    id: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<u32>,
    message_attributes: Option<BTreeMap<String, WireAttribute>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendMessageRequest {
    queue_url: Option<String>,
    #[serde(flatten)]
    message: SendEntry,
}

fn send_one(queues: &Queues, url: &str, entry: SendEntry) -> Answer {
    let body = entry
        .message_body
        .ok_or(SqsError::MissingParameter {
            field: "MessageBody".into(),
        })
        .map_err(fail)?;
    let request = SendRequest {
        body,
        attributes: attributes_in(entry.message_attributes).map_err(fail)?,
        delay_seconds: entry.delay_seconds,
    };
    let sent = queues.send_message(url, request).map_err(fail)?;
    let mut out = json!({"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body});
    if let Some(md5) = sent.md5_of_message_attributes {
        out["MD5OfMessageAttributes"] = json!(md5);
    }
    Ok(out)
}

fn send_message(queues: &Queues, body: &[u8]) -> Answer {
    let request: SendMessageRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    send_one(queues, url, request.message)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchRequest<E> {
    queue_url: Option<String>,
    entries: Option<Vec<E>>,
}

/// Checks a batch's entry count and Ids (1–10 entries, distinct, well-formed Ids).
fn check_batch<'a>(
    ids: impl Iterator<Item = Option<&'a str>>,
    count: usize,
) -> Result<(), SqsError> {
    if count == 0 {
        return Err(SqsError::EmptyBatchRequest);
    }
    if count > 10 {
        return Err(SqsError::TooManyEntriesInBatchRequest);
    }
    let mut seen = HashSet::new();
    for id in ids {
        let id = id.ok_or(SqsError::MissingParameter {
            field: "Entries.Id".into(),
        })?;
        let valid = (1..=80).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(SqsError::InvalidBatchEntryId);
        }
        if !seen.insert(id.to_owned()) {
            return Err(SqsError::BatchEntryIdsNotDistinct);
        }
    }
    Ok(())
}

/// A failed batch entry, as SQS lists it.
fn failed_entry(id: &str, response: &WireResponse) -> Value {
    let parsed: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let code = parsed["__type"]
        .as_str()
        .and_then(|t| t.rsplit('#').next())
        .unwrap_or("InternalError");
    json!({"Id": id, "SenderFault": true, "Code": code, "Message": parsed["message"]})
}

fn send_batch(queues: &Queues, body: &[u8]) -> Answer {
    let request: BatchRequest<SendEntry> = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let entries = request.entries.unwrap_or_default();
    check_batch(entries.iter().map(|e| e.id.as_deref()), entries.len()).map_err(fail)?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for mut entry in entries {
        let id = entry.id.take().unwrap_or_default();
        match send_one(queues, url, entry) {
            Ok(mut sent) => {
                sent["Id"] = json!(id);
                successful.push(sent);
            }
            Err(e) if e.body.contains("QueueDoesNotExist") => return Err(e),
            Err(e) => failed.push(failed_entry(&id, &e)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveMessageRequest {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<u32>,
    visibility_timeout: Option<u32>,
    wait_time_seconds: Option<u32>,
}

/// The system attributes a receiver asked for.
fn system_attributes(
    message: &ReceivedMessage,
    names: &[String],
    account: &str,
) -> BTreeMap<&'static str, String> {
    let all = [
        ("SentTimestamp", message.sent_timestamp.to_string()),
        ("ApproximateReceiveCount", message.receive_count.to_string()),
        (
            "ApproximateFirstReceiveTimestamp",
            message.first_receive_timestamp.to_string(),
        ),
        ("SenderId", account.to_owned()),
    ];
    all.into_iter()
        .filter(|(name, _)| names.iter().any(|n| n == "All" || n == name))
        .collect()
}

fn wanted_attribute(name: &str, wanted: &[String]) -> bool {
    wanted.iter().any(|w| {
        w == "All"
            || w == ".*"
            || w == name
            || w.strip_suffix(".*")
                .is_some_and(|prefix| name.starts_with(&format!("{prefix}.")))
    })
}

fn message_json(
    message: &ReceivedMessage,
    request: &ReceiveMessageRequest,
    account: &str,
) -> Value {
    let mut out = json!({
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    });
    let names: Vec<String> = request
        .attribute_names
        .iter()
        .chain(request.message_system_attribute_names.iter())
        .flatten()
        .cloned()
        .collect();
    let system = system_attributes(message, &names, account);
    if !system.is_empty() {
        out["Attributes"] = json!(system);
    }
    let wanted = request.message_attribute_names.clone().unwrap_or_default();
    let chosen: BTreeMap<String, MessageAttribute> = message
        .attributes
        .iter()
        .filter(|(name, _)| wanted_attribute(name, &wanted))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(md5) = md5_of_attributes(&chosen) {
        out["MD5OfMessageAttributes"] = json!(md5);
        let attributes: BTreeMap<&String, Value> =
            chosen.iter().map(|(k, v)| (k, attribute_json(v))).collect();
        out["MessageAttributes"] = json!(attributes);
    }
    out
}

async fn receive(queues: &Queues, body: &[u8]) -> Answer {
    let request: ReceiveMessageRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?.to_owned();
    let arn = queues.queue_arn(&url).map_err(fail)?;
    let account = arn.split(':').nth(4).unwrap_or_default().to_owned();
    let messages = queues
        .receive(
            &url,
            ReceiveRequest {
                max_messages: request.max_number_of_messages,
                wait_seconds: request.wait_time_seconds,
                visibility_timeout: request.visibility_timeout,
            },
        )
        .await
        .map_err(fail)?;
    if messages.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| message_json(m, &request, &account))
        .collect();
    Ok(json!({"Messages": messages}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptRequest {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<u32>,
}

fn delete_message(queues: &Queues, body: &[u8]) -> Answer {
    let request: ReceiptRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let receipt = required(&request.receipt_handle, "ReceiptHandle")?;
    queues.delete_message(url, receipt).map_err(fail)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteEntry {
    id: Option<String>,
    receipt_handle: Option<String>,
}

fn delete_batch(queues: &Queues, body: &[u8]) -> Answer {
    let request: BatchRequest<DeleteEntry> = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let entries = request.entries.unwrap_or_default();
    check_batch(entries.iter().map(|e| e.id.as_deref()), entries.len()).map_err(fail)?;
    queues.queue_url(url).map_err(fail)?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for entry in entries {
        let id = entry.id.unwrap_or_default();
        let result = required(&entry.receipt_handle, "ReceiptHandle")
            .and_then(|receipt| queues.delete_message(url, receipt).map_err(fail));
        match result {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(e) => failed.push(failed_entry(&id, &e)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}

fn change_visibility(queues: &Queues, body: &[u8]) -> Answer {
    let request: ReceiptRequest = read(body)?;
    let url = required(&request.queue_url, "QueueUrl")?;
    let receipt = required(&request.receipt_handle, "ReceiptHandle")?;
    let timeout = request.visibility_timeout.ok_or_else(|| {
        fail(SqsError::MissingParameter {
            field: "VisibilityTimeout".into(),
        })
    })?;
    queues
        .change_visibility(url, receipt, timeout)
        .map_err(fail)?;
    Ok(json!({}))
}
