"""What AWS does that moto does not: the Lambda runtime, event source mappings (the Kinesis
poller), Firehose's reads of the stream, EventBridge's schedules, and CloudFormation's
provisioning of the stack's resources."""
