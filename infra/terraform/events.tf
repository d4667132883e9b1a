# Domain events: the API publishes to one bus; each consumer domain has a rule matching the
# event types it handles (detail-type = the event class name), feeding its own queue, which
# triggers its consumer function (compute.tf). A message that fails 5 times moves to the DLQ.

locals {
  # Consumer domain => the events it handles: events/subscriptions.py's CONSUMERS, by class
  # name (tests/test_terraform.py checks that the two agree).
  consumers = {
    comments = ["ArticleDeleted"]
    likes    = ["ArticleDeleted"]
  }

  # SQS keeps a message in flight this long: several consumer timeouts, as AWS advises for
  # Lambda event sources, so a slow batch is not delivered twice.
  queue_visibility_timeout_seconds = 6 * var.consumer_timeout_seconds
}

resource "aws_cloudwatch_event_bus" "main" {
  name = local.prefix
}

resource "aws_cloudwatch_event_rule" "consumer" {
  for_each = local.consumers

  name           = "${local.prefix}-${each.key}-events"
  description    = "Domain events the ${each.key} consumer handles"
  event_bus_name = aws_cloudwatch_event_bus.main.name
  event_pattern  = jsonencode({ "detail-type" = each.value })
}

resource "aws_cloudwatch_event_target" "consumer" {
  for_each = local.consumers

  event_bus_name = aws_cloudwatch_event_bus.main.name
  rule           = aws_cloudwatch_event_rule.consumer[each.key].name
  target_id      = "${each.key}-queue"
  arn            = aws_sqs_queue.events[each.key].arn

  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
}

resource "aws_sqs_queue" "events_dlq" {
  for_each = local.consumers

  name                              = "${local.prefix}-${each.key}-events-dlq"
  message_retention_seconds         = 1209600 # 14 days, the most SQS keeps a message
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue" "events" {
  for_each = local.consumers

  name                              = "${local.prefix}-${each.key}-events"
  visibility_timeout_seconds        = local.queue_visibility_timeout_seconds
  message_retention_seconds         = 345600 # 4 days
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq[each.key].arn
    maxReceiveCount     = 5
  })
}

# Only the DLQ's own queue may move messages into it.
resource "aws_sqs_queue_redrive_allow_policy" "events_dlq" {
  for_each = local.consumers

  queue_url = aws_sqs_queue.events_dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events[each.key].arn]
  })
}

# Only this consumer's rule may send to its queue.
data "aws_iam_policy_document" "events_queue" {
  for_each = local.consumers

  statement {
    sid       = "OnlyTheRule"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events[each.key].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.consumer[each.key].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  for_each = local.consumers

  queue_url = aws_sqs_queue.events[each.key].id
  policy    = data.aws_iam_policy_document.events_queue[each.key].json
}
