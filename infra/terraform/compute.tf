# The Lambda functions, all from the one package built by `python3 dev.py package`:
# the API (behind API Gateway, edge.tf) and one event consumer per consumer domain.

locals {
  source_code_hash = filebase64sha256(var.lambda_zip)

  # What the API function reads at start (config.py, aws_lambda/api.py). The JWT secret is not
  # here: the function reads it from the SSM parameter at cold start.
  api_environment = merge(
    {
      CONDUIT_ENV                  = "production"
      CONDUIT_EVENT_BUS            = "eventbridge://${aws_cloudwatch_event_bus.main.name}"
      CONDUIT_JWT_SECRET_PARAMETER = aws_ssm_parameter.jwt_secret.name
      CONDUIT_CORS_ORIGINS         = join(",", var.cors_origins)
      CONDUIT_LOG_LEVEL            = var.log_level
      # Each container's memory counts alone: the budgets are counted in DynamoDB.
      CONDUIT_RATE_LIMIT_URL = "dynamodb://${aws_dynamodb_table.rate_limits.name}"
    },
    # With the ADOT collector layer, the app's spans go to the collector it runs beside the
    # function (OTLP/HTTP on localhost:4318), which sends them on to X-Ray (docs/aws.md).
    { for name, value in { OTEL_EXPORTER_OTLP_ENDPOINT = "http://localhost:4318" } : name => value if var.otel_collector_layer_arn != "" },
    # Every domain's CONDUIT_<DOMAIN>_URL: the API opens all the stores.
    values(local.store_url_env)...
  )
}

resource "aws_lambda_function" "api" {
  function_name = local.function_names["api"]
  description   = "Conduit GraphQL and REST API"
  role          = aws_iam_role.api.arn
  handler       = "aws_lambda.api.handler"
  runtime       = "python3.11"
  architectures = ["x86_64"]

  filename         = var.lambda_zip
  source_code_hash = local.source_code_hash

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.api_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn
  layers                         = var.otel_collector_layer_arn == "" ? [] : [var.otel_collector_layer_arn]

  environment {
    variables = local.api_environment
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.api]
}

resource "aws_lambda_function" "consumer" {
  for_each = local.consumers

  function_name = local.function_names[each.key]
  description   = "Handles domain events for the ${each.key} store"
  role          = aws_iam_role.consumer[each.key].arn
  handler       = "aws_lambda.consumer.handler"
  runtime       = "python3.11"
  architectures = ["x86_64"]

  filename         = var.lambda_zip
  source_code_hash = local.source_code_hash

  memory_size = var.lambda_memory_mb
  timeout     = var.consumer_timeout_seconds
  kms_key_arn = aws_kms_key.main.arn

  environment {
    # aws_lambda/consumer.py opens its own domain's store alone (and checks its table at
    # start), so that is the only URL it is given; it handles no token and needs no secret.
    variables = merge(
      local.store_url_env[each.key],
      {
        CONDUIT_ENV       = "production"
        CONDUIT_CONSUMER  = each.key
        CONDUIT_LOG_LEVEL = var.log_level
      },
    )
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.consumer]
}

resource "aws_lambda_event_source_mapping" "consumer" {
  for_each = local.consumers

  event_source_arn                   = aws_sqs_queue.events[each.key].arn
  function_name                      = aws_lambda_function.consumer[each.key].arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  # The handler names the messages that failed; only those are retried (and, after 5
  # receives, moved to the DLQ), not the whole batch.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.consumer_max_concurrency
  }
}
