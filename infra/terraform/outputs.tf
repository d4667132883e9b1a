output "api_url" {
  description = "Base URL of the API: GraphQL at <api_url>/graphql, REST at <api_url>/api."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "table_names" {
  description = "DynamoDB table of each domain."
  value       = { for domain, table in aws_dynamodb_table.domain : domain => table.name }
}

output "event_bus_name" {
  description = "EventBridge bus the API publishes domain events to."
  value       = aws_cloudwatch_event_bus.main.name
}

output "queue_urls" {
  description = "Each consumer's event queue."
  value       = { for consumer, queue in aws_sqs_queue.events : consumer => queue.url }
}

output "dlq_urls" {
  description = "Each consumer's dead-letter queue (events it failed 5 times)."
  value       = { for consumer, queue in aws_sqs_queue.events_dlq : consumer => queue.url }
}

output "function_names" {
  description = "The Lambda functions."
  value       = local.function_names
}

output "jwt_secret_parameter" {
  description = "SSM SecureString parameter holding the JWT signing secret."
  value       = aws_ssm_parameter.jwt_secret.name
}

output "kms_key_arn" {
  description = "The deployment's customer managed KMS key."
  value       = aws_kms_key.main.arn
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "deploy_role_arn" {
  description = "Role for GitHub Actions (set it as the AWS_DEPLOY_ROLE_ARN_<ENV> repository variable)."
  value       = aws_iam_role.deploy.arn
}
