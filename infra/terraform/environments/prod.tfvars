# terraform plan -var-file=environments/prod.tfvars -var github_repository=OWNER/REPO \
#   -var terraform_state_bucket=BUCKET
environment                  = "prod"
log_retention_days           = 90
throttling_rate_limit        = 200
throttling_burst_limit       = 400
lambda_memory_mb             = 1769 # one full vCPU
lambda_timeout_seconds       = 15
consumer_max_concurrency     = 5
api_p99_latency_threshold_ms = 1000
log_level                    = "INFO"
# One GitHub OIDC provider per AWS account: false if dev in the same account created it.
create_github_oidc_provider = true
