//! Reading a receiver secret (a chat webhook, a pager key) from Secrets Manager at
//! apply time, by its ARN, in the region the ARN names. The value goes back wrapped
//! in [`SecretValue`] and is never logged nor put in an error: errors name the
//! reference and what to check.

use aws_sdk_secretsmanager::Client;

use crate::cloud::aws::error::SdkFailure;
use crate::ports::observability::SecretValue;
use crate::stack::BackendError;

/// The region a Secrets Manager ARN names (`arn:aws:secretsmanager:REGION:...`);
/// `None` for a plain name.
pub(super) fn region_of(reference: &str) -> Option<String> {
    let mut parts = reference.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => {
            Some(region.to_owned())
        }
        _ => None,
    }
}

/// The secret's text value; see the module's documentation.
pub(super) async fn read_secret(
    client: &Client,
    reference: &str,
    region: &str,
) -> Result<SecretValue, BackendError> {
    let operation = format!("reading secret {reference}");
    let out = client
        .get_secret_value()
        .secret_id(reference)
        .send()
        .await
        .map_err(|e| explain(SdkFailure::from_sdk(e), &operation, region))?;
    match out.secret_string() {
        Some(text) => Ok(SecretValue::new(text.to_owned())),
        None => Err(BackendError::Permanent {
            operation,
            message: if out.secret_binary().is_some() {
                "the secret holds a binary value".to_owned()
            } else {
                "the secret has no current value".to_owned()
            },
            hint: "Store the receiver's setting as the secret's text (SecretString), then run \
                   apply again"
                .to_owned(),
        }),
    }
}

/// A failed read with the advice that fits it.
fn explain(f: SdkFailure, operation: &str, region: &str) -> BackendError {
    let code = f.code.clone().unwrap_or_default();
    let hint = if f.is_not_found() {
        format!(
            "Check that the secret exists in {region} under that ARN (a secret scheduled for \
             deletion cannot be read) and that the ARN is spelled right"
        )
    } else if code.contains("AccessDenied") {
        "Give the credentials paved runs with secretsmanager:GetSecretValue on the secret (and \
         kms:Decrypt on its key when it has its own), then run apply again"
            .to_owned()
    } else if code == "InvalidRequestException" {
        "The secret is probably marked for deletion: restore it or point at another one".to_owned()
    } else if code == "DecryptionFailure" {
        "Secrets Manager could not decrypt it: check the secret's KMS key and that the \
         credentials may use it"
            .to_owned()
    } else {
        return f.into_backend_error("Secrets Manager", operation);
    };
    if f.retryability() == crate::stack::retry::Retryability::Retryable {
        return f.into_backend_error("Secrets Manager", operation);
    }
    BackendError::Permanent {
        operation: operation.to_owned(),
        message: f.to_string(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_arn() {
        assert_eq!(
            region_of("arn:aws:secretsmanager:eu-west-1:1:secret:slack-AbCd").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("slack-webhook"), None);
        assert_eq!(region_of("arn:aws:ssm:eu-west-1:1:parameter/x"), None);
    }
}
