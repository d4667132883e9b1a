# The role GitHub Actions assumes through OIDC (no AWS keys stored in GitHub) to plan and apply
# this configuration for one environment. Its permissions reach only resources named after this
# deployment (<name>-<environment>-...), its state object, and its own KMS key (by tag).
#
# The first apply is made by an administrator (the role does not exist before it); after that
# .github/workflows/deploy.yml uses it.

locals {
  github_oidc_host = "token.actions.githubusercontent.com"
  github_oidc_provider_arn = (
    var.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : data.aws_iam_openid_connect_provider.github[0].arn
  )

  # The `sub` claims allowed: pushes to the deploy branch, pull requests (plan), and jobs that
  # run in this environment (GitHub puts the environment, not the branch, in `sub` for a job
  # with `environment:`; its protection rules gate the apply).
  github_subjects = [
    "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}",
    "repo:${var.github_repository}:pull_request",
    "repo:${var.github_repository}:environment:${var.environment}",
  ]

  arn_regional = {
    for service in ["dynamodb", "lambda", "sqs", "events", "logs", "kms", "ssm", "sns", "cloudwatch"] :
    service => "arn:${local.partition}:${service}:${var.region}:${local.account_id}"
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = "https://${local.github_oidc_host}"
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = local.github_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.prefix}-deploy"
  description          = "GitHub Actions (${var.github_repository}) plans and applies ${local.prefix}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.terraform_state_bucket}"]
  }

  statement {
    sid     = "StateObjectAndLock"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    # The workflow's state key is <name>/<environment>.tfstate; the lock file adds .tflock.
    resources = ["arn:${local.partition}:s3:::${var.terraform_state_bucket}/${var.name}/${var.environment}.tfstate*"]
  }

  statement {
    sid     = "Tables"
    actions = ["dynamodb:*"]
    resources = [
      "${local.arn_regional.dynamodb}:table/${local.prefix}-*",
    ]
  }

  statement {
    sid       = "Functions"
    actions   = ["lambda:*"]
    resources = ["${local.arn_regional.lambda}:function:${local.prefix}-*"]
  }

  statement {
    sid = "EventSourceMappings"
    actions = [
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
      "lambda:TagResource",
      "lambda:ListTags",
    ]
    resources = ["${local.arn_regional.lambda}:event-source-mapping:*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn_regional.lambda}:function:${local.prefix}-*"]
    }
  }

  statement {
    sid = "CreateEventSourceMappings"
    # Creating one has no resource to scope to; the condition names the functions.
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn_regional.lambda}:function:${local.prefix}-*"]
    }
  }

  statement {
    sid       = "Queues"
    actions   = ["sqs:*"]
    resources = ["${local.arn_regional.sqs}:${local.prefix}-*"]
  }

  statement {
    sid     = "EventBusAndRules"
    actions = ["events:*"]
    resources = [
      "${local.arn_regional.events}:event-bus/${local.prefix}",
      "${local.arn_regional.events}:rule/${local.prefix}/*",
    ]
  }

  statement {
    sid     = "LogGroups"
    actions = ["logs:*"]
    resources = [
      "${local.arn_regional.logs}:log-group:/aws/lambda/${local.prefix}-*",
      "${local.arn_regional.logs}:log-group:/aws/apigateway/${local.prefix}-*",
    ]
  }

  statement {
    sid     = "HttpApis"
    actions = ["apigateway:*"]
    resources = [
      "arn:${local.partition}:apigateway:${var.region}::/apis",
      "arn:${local.partition}:apigateway:${var.region}::/apis/*",
      "arn:${local.partition}:apigateway:${var.region}::/tags/*",
    ]
  }

  statement {
    sid = "FunctionRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:PutRolePolicy",
      "iam:GetRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.prefix}-*"]
  }

  statement {
    sid       = "GithubOidcProvider"
    actions   = ["iam:*OpenIDConnectProvider*"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.github_oidc_host}"]
  }

  statement {
    sid       = "OwnKey"
    actions   = ["kms:*"]
    resources = ["${local.arn_regional.kms}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.name]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "OwnKeyAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["${local.arn_regional.kms}:alias/${local.prefix}"]
  }

  statement {
    sid = "CreateKey"
    # CreateKey has no resource to scope to; the key must be tagged for this deployment.
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "JwtSecretParameter"
    actions   = ["ssm:*"]
    resources = ["${local.arn_regional.ssm}:parameter/${var.name}/${var.environment}/*"]
  }

  statement {
    sid       = "AlarmTopic"
    actions   = ["sns:*"]
    resources = ["${local.arn_regional.sns}:${local.prefix}-*"]
  }

  statement {
    sid       = "Alarms"
    actions   = ["cloudwatch:*"]
    resources = ["${local.arn_regional.cloudwatch}:alarm:${local.prefix}-*"]
  }

  statement {
    sid = "ApiAccessLogDelivery"
    # What API Gateway asks of whoever turns on a stage's access logs; no resource-level form.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.region]
    }
  }

  statement {
    sid = "ListsWithoutResources"
    # Calls that take no resource (read-only listings, a random string); this region only.
    actions = [
      "lambda:ListEventSourceMappings",
      "logs:DescribeLogGroups",
      "ssm:DescribeParameters",
      "kms:ListAliases",
      "cloudwatch:DescribeAlarms",
      # Generates the JWT secret (security.tf); returns a random string, touches nothing.
      "secretsmanager:GetRandomPassword",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.region]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-${local.prefix}"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
