# One table per domain, exactly as stores/dynamodb/tables.py designs it (tests/test_terraform.py
# checks keys, attributes and indexes against that file): generic string keys pk/sk, and
# global secondary indexes projecting whole items.

locals {
  # CONDUIT_<DOMAIN>_URL of each domain's store (stores/dynamodb/backend.py).
  store_url_env = {
    users    = { CONDUIT_USERS_URL = "dynamodb://${aws_dynamodb_table.users.name}" }
    articles = { CONDUIT_ARTICLES_URL = "dynamodb://${aws_dynamodb_table.articles.name}" }
    likes    = { CONDUIT_LIKES_URL = "dynamodb://${aws_dynamodb_table.likes.name}" }
    comments = { CONDUIT_COMMENTS_URL = "dynamodb://${aws_dynamodb_table.comments.name}" }
  }

  table_arns = {
    users    = aws_dynamodb_table.users.arn
    articles = aws_dynamodb_table.articles.arn
    likes    = aws_dynamodb_table.likes.arn
    comments = aws_dynamodb_table.comments.arn
  }
}

resource "aws_dynamodb_table" "users" {
  name                        = "${local.prefix}-users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = local.is_prod

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi1pk"
    type = "S"
  }
  attribute {
    name = "gsi1sk"
    type = "S"
  }

  # USER#<followee> / FOLLOWER#<follower>: a user's followers.
  global_secondary_index {
    name            = "followers"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "articles" {
  name                        = "${local.prefix}-articles"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = local.is_prod

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi1pk"
    type = "S"
  }
  attribute {
    name = "gsi1sk"
    type = "S"
  }
  attribute {
    name = "gsi2pk"
    type = "S"
  }
  attribute {
    name = "gsi2sk"
    type = "S"
  }

  # ARTICLES / time_key: every article, newest first.
  global_secondary_index {
    name            = "newest"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  # AUTHOR#<author_id> / time_key: an author's articles, newest first.
  global_secondary_index {
    name            = "by_author"
    hash_key        = "gsi2pk"
    range_key       = "gsi2sk"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "likes" {
  name                        = "${local.prefix}-likes"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = local.is_prod

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi1pk"
    type = "S"
  }
  attribute {
    name = "gsi1sk"
    type = "S"
  }

  # USER#<user_id> / ARTICLE#<article_id>: the articles a user likes.
  global_secondary_index {
    name            = "by_user"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "comments" {
  name                        = "${local.prefix}-comments"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = local.is_prod

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}
