terraform {
  # 1.11: write-only arguments (the JWT secret is written with `value_wo`, never stored in
  # state or plan files; see security.tf).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.90: aws_ssm_parameter.value_wo, the ephemeral aws_secretsmanager_random_password,
      # the GitHub OIDC provider without thumbprints.
      version = "~> 5.90"
    }
  }

  # Partial configuration: bucket, key, region and use_lockfile come from
  # `terraform init -backend-config=...` (see the deploy workflow), one state per environment.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.name
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
