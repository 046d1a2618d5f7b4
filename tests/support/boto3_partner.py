"""A partner backend's first calls with boto3 against `steward-local serve` (run by
tests/serve_boto3.rs with the endpoint as its argument): SQS with message attributes (boto3
checks both MD5 digests), a rule and target on Steward's bus, PutEvents, the state machines,
the functions, a query through Lambda Invoke (a function error comes back as one), and a typed
SQS error. Prints one JSON line of what it saw."""
import boto3, json, sys
E = sys.argv[1]
kw = dict(endpoint_url=E, region_name="us-east-1", aws_access_key_id="partner", aws_secret_access_key="partner")
sqs, ev, sfn, lam = (boto3.client(s, **kw) for s in ("sqs", "events", "stepfunctions", "lambda"))
url = sqs.create_queue(QueueName="boto3-inbox")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
ev.put_rule(Name="boto3-inbox", EventBusName="steward-partner", EventPattern=json.dumps({"source": ["steward"]}))
ev.put_targets(Rule="boto3-inbox", EventBusName="steward-partner", Targets=[{"Id": "q", "Arn": arn}])
sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"][0]
assert got["Body"] == "hello" and got["MessageAttributes"]["k"]["StringValue"] == "v", got
sqs.delete_message(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
r = ev.put_events(Entries=[{"EventBusName": "steward-partner", "Source": "steward.partner", "DetailType": "Session Started", "Detail": json.dumps({"probe": True})}])
assert r["FailedEntryCount"] == 0
machines = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
fns = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
out = lam.invoke(FunctionName="QueryFunction", Payload=json.dumps({"query": "desktops", "tenantId": "nobody"}))
payload = json.loads(out["Payload"].read())
try:
    sqs.get_queue_url(QueueName="nope")
    raise SystemExit("expected QueueDoesNotExist")
except sqs.exceptions.QueueDoesNotExist:
    pass
print(json.dumps({"machines": sorted(machines), "functions": len(fns), "query_error": out.get("FunctionError"), "payload": payload}))
