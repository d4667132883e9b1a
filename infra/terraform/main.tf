locals {
  # Every name starts with it: "<name>-<environment>-...".
  prefix  = "${var.name}-${var.environment}"
  is_prod = var.environment == "prod"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The Lambda functions: the API, the outbox relay (outbox.tf), and one consumer per consumer
  # domain (events.tf).
  function_names = merge(
    { api = "${local.prefix}-api", outbox = "${local.prefix}-outbox-relay" },
    { for consumer in keys(local.consumers) : consumer => "${local.prefix}-${consumer}-consumer" },
  )
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
