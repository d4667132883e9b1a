# The transactional outbox's relay on AWS: every write puts its events in its domain's table as
# OUTBOX items, in its own transaction (stores/dynamodb/outbox.py); each table's stream
# (data.tf) triggers the relay function, filtered to new OUTBOX items, which publishes them to
# the bus (events.tf) and deletes them. A batch that keeps failing is retried from its first
# failed record, then described in a dead-letter queue, which has an alarm.

locals {
  # The partition key of every outbox item (OUTBOX_PARTITION in stores/dynamodb/outbox.py):
  # the relay is sent new items of this partition only.
  outbox_partition = "OUTBOX"
}

resource "aws_lambda_function" "outbox" {
  function_name = local.function_names["outbox"]
  description   = "Publishes the events recorded in the domain tables' outboxes"
  role          = aws_iam_role.outbox.arn
  handler       = "aws_lambda.outbox.handler"
  runtime       = "python3.11"
  architectures = ["x86_64"]

  filename         = var.lambda_zip
  source_code_hash = local.source_code_hash

  memory_size = var.lambda_memory_mb
  timeout     = var.consumer_timeout_seconds
  kms_key_arn = aws_kms_key.main.arn

  environment {
    # aws_lambda/outbox.py opens every domain's store (to delete what it sent) and publishes to
    # the bus; it handles no token and needs no secret.
    variables = merge(
      {
        CONDUIT_ENV       = "production"
        CONDUIT_EVENT_BUS = "eventbridge://${aws_cloudwatch_event_bus.main.name}"
        CONDUIT_LOG_LEVEL = var.log_level
      },
      values(local.store_url_env)...
    )
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.outbox]
}

resource "aws_lambda_event_source_mapping" "outbox" {
  for_each = aws_dynamodb_table.domain

  event_source_arn  = each.value.stream_arn
  function_name     = aws_lambda_function.outbox.arn
  starting_position = "TRIM_HORIZON"
  batch_size        = 100
  # The handler names the first record that failed; the batch is sent again from there.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 10

  filter_criteria {
    filter {
      pattern = jsonencode({
        eventName = ["INSERT"]
        dynamodb  = { Keys = { pk = { S = [local.outbox_partition] } } }
      })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.outbox_dlq.arn
    }
  }
}

# What the mapping could not deliver: each message describes a batch of stream records (their
# shard and sequence numbers) whose outbox items are still in their table.
resource "aws_sqs_queue" "outbox_dlq" {
  name                              = "${local.prefix}-outbox-dlq"
  message_retention_seconds         = 1209600 # 14 days, the most SQS keeps a message
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_iam_role" "outbox" {
  name               = "${local.function_names["outbox"]}-function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "outbox" {
  source_policy_documents = [data.aws_iam_policy_document.function["outbox"].json]

  statement {
    sid       = "OwnTablesAndIndexes"
    actions   = local.dynamodb_data_actions
    resources = concat(values(local.table_arns), [for arn in values(local.table_arns) : "${arn}/index/*"])
  }

  statement {
    sid = "ReadTableStreams"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = [for table in aws_dynamodb_table.domain : table.stream_arn]
  }

  statement {
    sid       = "PublishDomainEvents"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.main.arn]
  }

  statement {
    sid       = "FailedBatchesToQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.outbox_dlq.arn]
  }
}

resource "aws_iam_role_policy" "outbox" {
  name   = "least-privilege"
  role   = aws_iam_role.outbox.id
  policy = data.aws_iam_policy_document.outbox.json
}

resource "aws_cloudwatch_metric_alarm" "outbox_dlq" {
  alarm_name          = "${aws_sqs_queue.outbox_dlq.name}-not-empty"
  alarm_description   = "Outbox records the relay failed to publish after its retries."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.outbox_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
