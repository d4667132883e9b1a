# One table per domain, exactly as stores/dynamodb/tables.py designs it (tests/test_terraform.py
# checks keys, attributes and indexes against that file): generic string keys pk/sk, and
# global secondary indexes projecting whole items.

locals {
  # Domain => its global secondary indexes (TABLES in stores/dynamodb/tables.py), each keyed
  # on its own string attributes. The comment on each index: its items' key / sort key.
  table_indexes = {
    users = [
      # USER#<followee> / FOLLOWER#<follower>: a user's followers.
      { name = "followers", hash_key = "gsi1pk", range_key = "gsi1sk" },
    ]
    articles = [
      # ARTICLES / time_key: every article, newest first.
      { name = "newest", hash_key = "gsi1pk", range_key = "gsi1sk" },
      # AUTHOR#<author_id> / time_key: an author's articles, newest first.
      { name = "by_author", hash_key = "gsi2pk", range_key = "gsi2sk" },
    ]
    likes = [
      # USER#<user_id> / ARTICLE#<article_id>: the articles a user likes.
      { name = "by_user", hash_key = "gsi1pk", range_key = "gsi1sk" },
    ]
    comments = []
  }

  # CONDUIT_<DOMAIN>_URL of each domain's store (stores/dynamodb/backend.py).
  store_url_env = {
    for domain, table in aws_dynamodb_table.domain :
    domain => { "CONDUIT_${upper(domain)}_URL" = "dynamodb://${table.name}" }
  }

  table_arns = { for domain, table in aws_dynamodb_table.domain : domain => table.arn }
}

resource "aws_dynamodb_table" "domain" {
  for_each = local.table_indexes

  name                        = "${local.prefix}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = local.is_prod

  # Each new item as written (STREAM_VIEW_TYPE in stores/dynamodb/tables.py): the outbox relay
  # (outbox.tf) takes the domain's recorded events from here.
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  # Every attribute a key or an index is built on: all strings.
  dynamic "attribute" {
    for_each = distinct(concat(["pk", "sk"], flatten([for index in each.value : [index.hash_key, index.range_key]])))

    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value

    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "ALL"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# The API's rate limit counters (ratelimits/dynamodb.py): one item per key and window, on the
# same generic string keys; DynamoDB's TTL deletes windows that ended.
resource "aws_dynamodb_table" "rate_limits" {
  name                        = "${local.prefix}-rate-limits"
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

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}
