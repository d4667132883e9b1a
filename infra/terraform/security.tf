# Encryption key, the JWT secret, and IAM: one least-privilege role per function, and the role
# GitHub Actions assumes (through OIDC, no stored AWS keys) to plan and deploy.

# --- The customer managed key: DynamoDB, SQS, SNS, CloudWatch Logs, SSM, Lambda environment ---

resource "aws_kms_key" "main" {
  description             = "${local.prefix}: tables, queues, topic, logs, the JWT secret"
  enable_key_rotation     = true
  deletion_window_in_days = local.is_prod ? 30 : 7

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account's IAM policies decide who else may use the key (the roles below).
        Sid       = "AccountIamPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsOfThisDeployment"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${local.prefix}-*",
              "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/apigateway/${local.prefix}-*",
            ]
          }
        }
      },
      {
        # The rules deliver events into the encrypted queues.
        Sid       = "EventBridgeRulesToQueues"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:events:${var.region}:${local.account_id}:rule/${local.prefix}/*" }
        }
      },
      {
        # Alarms publish to the encrypted topic.
        Sid       = "CloudWatchAlarmsToTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.main.key_id
}

# --- The JWT signing secret ---
#
# Generated at the first apply (by Secrets Manager's GetRandomPassword, through an ephemeral
# resource) and written with the write-only `value_wo`: Terraform keeps it in neither state nor
# plan files. (random_password would sit in the state in plain text; a placeholder value
# would leave a deployment that refuses to start until someone remembers a manual step.) The
# API function reads it from SSM at cold start; no Terraform variable or Lambda environment
# variable ever holds it. To rotate, bump var.jwt_secret_version, or overwrite the parameter
# out of band (Terraform never reads the value back, so it does not notice).

ephemeral "aws_secretsmanager_random_password" "jwt_secret" {
  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "aws_ssm_parameter" "jwt_secret" {
  name             = "/${var.name}/${var.environment}/jwt-secret"
  description      = "HS256 signing key of the ${local.prefix} API (CONDUIT_JWT_SECRET)"
  type             = "SecureString"
  key_id           = aws_kms_key.main.arn
  value_wo         = ephemeral.aws_secretsmanager_random_password.jwt_secret.random_password
  value_wo_version = var.jwt_secret_version
}

# --- Function roles ---

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

locals {
  # What the rate limiter calls (ratelimits/dynamodb.py) while it counts.
  rate_limit_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
  # What the stores call (stores/dynamodb/): transactions are authorized as their parts.
  dynamodb_data_actions = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
  ]
}

# What every function's role allows, whatever the function: decrypting with the key (its
# environment, the secret, the tables and queues are encrypted with it), writing its own log
# group, and sending traces. Each role's own document below adds what that function reaches.
data "aws_iam_policy_document" "function" {
  for_each = local.function_names

  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  statement {
    sid = "WriteTraces"
    # X-Ray has no resource-level permissions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "api" {
  name               = "${local.function_names["api"]}-function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "api" {
  source_policy_documents = [data.aws_iam_policy_document.function["api"].json]

  statement {
    sid       = "OwnTablesAndIndexes"
    actions   = local.dynamodb_data_actions
    resources = concat(values(local.table_arns), [for arn in values(local.table_arns) : "${arn}/index/*"])
  }

  statement {
    sid       = "RateLimitCounters"
    actions   = local.rate_limit_actions
    resources = [aws_dynamodb_table.rate_limits.arn]
  }

  statement {
    sid       = "ReadJwtSecret"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.jwt_secret.arn]
  }
}

resource "aws_iam_role_policy" "api" {
  name   = "least-privilege"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

resource "aws_iam_role" "consumer" {
  for_each = local.consumers

  name               = "${local.function_names[each.key]}-function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "consumer" {
  for_each = local.consumers

  source_policy_documents = [data.aws_iam_policy_document.function[each.key].json]

  statement {
    sid       = "OwnTableAndIndexes"
    actions   = local.dynamodb_data_actions
    resources = [local.table_arns[each.key], "${local.table_arns[each.key]}/index/*"]
  }

  statement {
    sid       = "OwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.events[each.key].arn]
  }
}

resource "aws_iam_role_policy" "consumer" {
  for_each = local.consumers

  name   = "least-privilege"
  role   = aws_iam_role.consumer[each.key].id
  policy = data.aws_iam_policy_document.consumer[each.key].json
}
