# terraform plan -var-file=environments/dev.tfvars -var github_repository=OWNER/REPO \
#   -var terraform_state_bucket=BUCKET
environment                  = "dev"
log_retention_days           = 14
throttling_rate_limit        = 20
throttling_burst_limit       = 40
lambda_memory_mb             = 1024
lambda_timeout_seconds       = 15
consumer_max_concurrency     = 2
api_p99_latency_threshold_ms = 3000
log_level                    = "DEBUG"
