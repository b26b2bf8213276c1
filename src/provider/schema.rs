//! The provider block's schema.

use paved_value::Type;

use crate::cloud::aws::ENDPOINT_SERVICES;
use crate::cloud::gcp::ENDPOINT_SERVICES as GCP_ENDPOINT_SERVICES;
use crate::schema::{Attribute, Block, NestedBlock, Schema};

/// The schema of `provider "paved" { ... }`.
pub fn provider_schema() -> Schema {
    let services: Vec<String> = ENDPOINT_SERVICES.iter().map(|s| format!("`{s}`")).collect();
    let gcp_services: Vec<String> = GCP_ENDPOINT_SERVICES
        .iter()
        .map(|s| format!("`{s}`"))
        .collect();
    Schema::new(
        Block::new(
            "The paved provider builds production-ready Kubernetes stacks from a few \
             high-level resources. Every setting is optional: AWS and GCP settings fall \
             back to the standard environment (`AWS_REGION`, `AWS_PROFILE`, \
             `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, the AWS credential chain; \
             `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_REGION` and application default \
             credentials). Configuring the provider makes no cloud call, so `validate` and \
             plans that need no cloud data work without credentials.",
        )
        .attribute(
            Attribute::string("cloud")
                .optional()
                .description("The cloud stacks are built in: `\"aws\"` or `\"gcp\"`.")
                .default_doc("`\"aws\"`"),
        )
        .attribute(
            Attribute::map("default_tags", Type::String)
                .optional()
                .description(
                    "Tags (labels on GCP) added to every component paved creates, next to \
                     the tags naming the stack and the component's role.",
                ),
        )
        .block(NestedBlock::single(
            "aws",
            Block::new("AWS settings; each falls back to the standard AWS environment.")
                .attribute(
                    Attribute::string("region")
                        .optional()
                        .description("The default region.")
                        .default_doc("`AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's region"),
                )
                .attribute(
                    Attribute::string("profile")
                        .optional()
                        .description("A named profile from the shared AWS config files.")
                        .default_doc("`AWS_PROFILE`"),
                )
                .attribute(
                    Attribute::string("endpoint_url")
                        .optional()
                        .description("An endpoint for every AWS service, such as a local emulator.")
                        .default_doc("`AWS_ENDPOINT_URL`"),
                )
                .attribute(
                    Attribute::map("endpoints", Type::String)
                        .optional()
                        .description(format!(
                            "Endpoints per service, overriding `endpoint_url`. Keys: {}.",
                            services.join(", ")
                        ))
                        .default_doc("`AWS_ENDPOINT_URL_<SERVICE>`"),
                )
                .block(NestedBlock::single(
                    "assume_role",
                    Block::new("A role to assume for every AWS call.")
                        .attribute(
                            Attribute::string("role_arn")
                                .required()
                                .description("The ARN of the role to assume."),
                        )
                        .attribute(
                            Attribute::string("session_name")
                                .optional()
                                .description("The session name shown in CloudTrail.")
                                .default_doc("`paved`"),
                        )
                        .attribute(
                            Attribute::string("external_id")
                                .optional()
                                .sensitive()
                                .description("The external id the role's trust policy requires."),
                        )
                        .attribute(
                            Attribute::number("duration_seconds")
                                .optional()
                                .description("Session length, 900 to 43200 seconds.")
                                .default_doc("3600"),
                        ),
                )),
        ))
        .block(NestedBlock::single(
            "gcp",
            Block::new("GCP settings; each falls back to the standard Google Cloud environment.")
                .attribute(
                    Attribute::string("project")
                        .optional()
                        .description("The project stacks are created in.")
                        .default_doc("`GOOGLE_CLOUD_PROJECT`"),
                )
                .attribute(
                    Attribute::string("region")
                        .optional()
                        .description("The default region.")
                        .default_doc("`GOOGLE_CLOUD_REGION`"),
                )
                .attribute(
                    Attribute::string("credentials")
                        .optional()
                        .sensitive()
                        .description("A service account key: a file path or the JSON itself.")
                        .default_doc("application default credentials"),
                )
                .attribute(
                    Attribute::string("access_token")
                        .optional()
                        .sensitive()
                        .description(
                            "An OAuth access token used as it is (a CI job's short-lived token); \
                             wins over `credentials`.",
                        )
                        .default_doc("`GOOGLE_OAUTH_ACCESS_TOKEN`"),
                )
                .attribute(
                    Attribute::string("endpoint_url")
                        .optional()
                        .description(
                            "An endpoint for every GCP API, such as a private endpoint or a \
                             local stand-in.",
                        )
                        .default_doc("`PAVED_GCP_ENDPOINT_URL`"),
                )
                .attribute(
                    Attribute::map("endpoints", Type::String)
                        .optional()
                        .description(format!(
                            "Endpoints per API, overriding `endpoint_url`. Keys: {}.",
                            gcp_services.join(", ")
                        ))
                        .default_doc("the public `*.googleapis.com` endpoints"),
                ),
        )),
    )
}
