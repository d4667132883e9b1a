variable "name" {
  description = "Project name: every resource is named <name>-<environment>-..."
  type        = string
  default     = "conduit"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name: 2 to 20 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment: dev or prod (prod turns on deletion protection)."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be \"dev\" or \"prod\"."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "eu-west-1"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Lambda and API access logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the API stage accepts (over all routes)."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  description = "Requests the API stage accepts in a burst above the steady rate."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a positive whole number."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of each Lambda function (CPU grows with it)."
  type        = number
  default     = 1024

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the API function; API Gateway gives up on an integration after 30 s."
  type        = number
  default     = 15

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 29
    error_message = "lambda_timeout_seconds must be between 1 and 29 (API Gateway's limit is 30 s)."
  }
}

variable "consumer_timeout_seconds" {
  description = "Timeout of each event consumer function (the queue's visibility timeout is six times this)."
  type        = number
  default     = 60

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 900
    error_message = "consumer_timeout_seconds must be between 1 and 900."
  }
}

variable "api_reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the API function; -1 leaves it unreserved."
  type        = number
  default     = -1

  validation {
    condition     = var.api_reserved_concurrency >= -1
    error_message = "api_reserved_concurrency must be -1 (unreserved) or a count of executions."
  }
}

variable "consumer_max_concurrency" {
  description = "Most concurrent invocations of each event consumer by its queue (2 to 1000)."
  type        = number
  default     = 2

  validation {
    condition     = var.consumer_max_concurrency >= 2 && var.consumer_max_concurrency <= 1000
    error_message = "consumer_max_concurrency must be between 2 and 1000."
  }
}

variable "lambda_zip" {
  description = "The deployment package built by `python3 dev.py package`; relative paths start at the Terraform working directory."
  type        = string
  default     = "../../dist/lambda.zip"
}

variable "cors_origins" {
  description = "Origins browsers may call the API from (CONDUIT_CORS_ORIGINS); the app answers CORS preflights itself."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.cors_origins) > 0
    error_message = "cors_origins needs at least one origin (\"*\" allows any)."
  }
}

variable "log_level" {
  description = "Python log level of the functions (CONDUIT_LOG_LEVEL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "jwt_secret_version" {
  description = "Bump to generate and store a new JWT signing secret (signs every user out)."
  type        = number
  default     = 1

  validation {
    condition     = var.jwt_secret_version >= 1 && floor(var.jwt_secret_version) == var.jwt_secret_version
    error_message = "jwt_secret_version must be a whole number, 1 or more."
  }
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the deploy role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_branch" {
  description = "The branch whose pushes deploy."
  type        = string
  default     = "main"
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider; false when it exists already (one per account, e.g. when dev and prod share an account)."
  type        = bool
  default     = true
}

variable "terraform_state_bucket" {
  description = "S3 bucket holding this configuration's state (the deploy role may read and write it)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.terraform_state_bucket))
    error_message = "terraform_state_bucket must be an S3 bucket name."
  }
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic; empty for none (subscribe something else to the topic)."
  type        = string
  default     = ""
}

variable "api_p99_latency_threshold_ms" {
  description = "The API latency alarm fires when p99 latency stays above this many milliseconds."
  type        = number
  default     = 2000

  validation {
    condition     = var.api_p99_latency_threshold_ms > 0
    error_message = "api_p99_latency_threshold_ms must be positive."
  }
}

variable "lambda_errors_threshold" {
  description = "A function's error alarm fires when its errors in 5 minutes exceed this."
  type        = number
  default     = 0

  validation {
    condition     = var.lambda_errors_threshold >= 0
    error_message = "lambda_errors_threshold must be 0 or more."
  }
}

variable "otel_collector_layer_arn" {
  description = "ARN of an AWS Distro for OpenTelemetry (ADOT) collector layer for the API function, or empty: with one, the app's request, operation and store spans reach X-Ray (docs/aws.md)."
  type        = string
  default     = ""

  validation {
    condition     = var.otel_collector_layer_arn == "" || can(regex("^arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.otel_collector_layer_arn))
    error_message = "otel_collector_layer_arn must be empty or a versioned Lambda layer ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)."
  }
}
