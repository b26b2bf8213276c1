//! Classifying a request by AWS service, action and protocol family.
//!
//! * **Service**: the signing name in the SigV4 credential scope, taken from
//!   the `Authorization` header (`Credential=AKID/20240101/us-east-1/ec2/aws4_request`
//!   gives `ec2`) or, for presigned URLs, from the `X-Amz-Credential` query
//!   parameter. Requests with neither are counted under `unknown`.
//! * **Action and protocol family**, first match wins:
//!   1. an `X-Amz-Target` header means the AWS JSON protocol; the action is
//!      the part after the last dot (`Logs_20140328.DescribeLogGroups` gives
//!      `DescribeLogGroups`);
//!   2. an `Action=` parameter in a form-encoded body or in the query string
//!      means the query protocol (the EC2 variant when the service is `ec2`);
//!   3. anything else is a REST protocol: REST-XML for `s3`, `s3-control`,
//!      `route53` and `cloudfront`, REST-JSON otherwise (EKS, AMP, ...). The
//!      action is the method plus a path template, see [`rest_action`];
//!      except the EKS calls the [`eks`](crate::eks) stand-in models, which
//!      get their operation names (`CreateAddon`, `UpdateClusterVersion`,
//!      `DescribeUpdate`, ...).

use hyper::http::{HeaderMap, Method, Uri};

pub use crate::wire::{form_param, form_params, percent_decode};

/// Service name used when a request carries no SigV4 credential scope.
pub const UNKNOWN_SERVICE: &str = "unknown";

/// The wire protocol family of a request, which decides the shape of
/// injected errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery: IAM, RDS, STS, ELBv2, AutoScaling, CloudWatch, ...
    Query,
    /// ec2Query: EC2's own variant of the query protocol.
    Ec2Query,
    /// awsJson1_0 / awsJson1_1 (`X-Amz-Target`): KMS, Secrets Manager, Logs, ...
    Json,
    /// restJson1: EKS, AMP, ...
    RestJson,
    /// restXml: S3, Route 53, CloudFront.
    RestXml,
}

/// What a request is, as far as counting and fault shapes are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// SigV4 signing name, e.g. `ec2`, or [`UNKNOWN_SERVICE`].
    pub service: String,
    /// Operation name (`DescribeVpcs`) or REST template (`GET /clusters/{id}`).
    pub action: String,
    /// Protocol family.
    pub protocol: Protocol,
}

/// Classifies a request from its method, URI, headers and (buffered) body.
pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Classification {
    let service = service_from_headers(headers)
        .or_else(|| uri.query().and_then(service_from_query))
        .unwrap_or_else(|| UNKNOWN_SERVICE.to_string());

    if let Some(target) = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let action = target.rsplit('.').next().unwrap_or(target).to_string();
        return Classification {
            service,
            action,
            protocol: Protocol::Json,
        };
    }

    let form_action = if is_form_encoded(headers) {
        std::str::from_utf8(body)
            .ok()
            .and_then(|b| form_param(b, "Action"))
    } else {
        None
    };
    if let Some(action) = form_action.or_else(|| uri.query().and_then(|q| form_param(q, "Action")))
    {
        let protocol = if service == "ec2" {
            Protocol::Ec2Query
        } else {
            Protocol::Query
        };
        return Classification {
            service,
            action,
            protocol,
        };
    }

    let xml = matches!(
        service.as_str(),
        "s3" | "s3-control" | "route53" | "cloudfront"
    );
    // The EKS calls the proxy can answer itself go by their real names.
    let eks_name = (service == "eks")
        .then(|| crate::eks::action_name(method, uri.path()))
        .flatten();
    // So do the AMP alert manager definition calls the amp stand-in answers.
    let amp_name = (service == "aps")
        .then(|| crate::amp::action_name(method, uri.path()))
        .flatten();
    let action = match eks_name.or(amp_name) {
        Some(name) => name.to_string(),
        None => rest_action(method, uri, service == "s3"),
    };
    Classification {
        service,
        action,
        protocol: if xml {
            Protocol::RestXml
        } else {
            Protocol::RestJson
        },
    }
}

fn is_form_encoded(headers: &HeaderMap) -> bool {
    headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

/// The credential scope from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
fn scope_from_headers(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let start = auth.find("Credential=")? + "Credential=".len();
    let rest = &auth[start..];
    let end = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The signing name from the `Authorization` header's credential scope.
fn service_from_headers(headers: &HeaderMap) -> Option<String> {
    service_from_scope(scope_from_headers(headers)?)
}

/// The signing region of a request: from the credential scope of its
/// `Authorization` header, else of its `X-Amz-Credential` query parameter.
pub fn region_of(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let scope = match scope_from_headers(headers) {
        Some(scope) => scope.to_string(),
        None => form_param(uri.query()?, "X-Amz-Credential")?,
    };
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() < 5 {
        return None;
    }
    Some(parts[parts.len() - 3])
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// The access key id of a request: the first part of the credential scope of
/// its `Authorization` header, else of its `X-Amz-Credential` query parameter.
pub fn access_key_of(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let scope = match scope_from_headers(headers) {
        Some(scope) => scope.to_string(),
        None => form_param(uri.query()?, "X-Amz-Credential")?,
    };
    scope
        .split('/')
        .next()
        .filter(|key| !key.is_empty())
        .map(str::to_string)
}

/// The signing name from a presigned URL's `X-Amz-Credential` parameter.
fn service_from_query(query: &str) -> Option<String> {
    service_from_scope(&form_param(query, "X-Amz-Credential")?)
}

/// `AKID/DATE/REGION/SERVICE/aws4_request` → `SERVICE`.
pub fn service_from_scope(scope: &str) -> Option<String> {
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() < 5 {
        return None;
    }
    let service = parts[parts.len() - 2];
    if service.is_empty() {
        None
    } else {
        Some(service.to_string())
    }
}

/// The action name of a REST request: the method, a space and a path
/// template.
///
/// Generic rule (REST-JSON services such as EKS and AMP): path segments
/// alternate between collection names and ids, so segments at even
/// positions (the 1st, 3rd, ...) are kept and those at odd positions are
/// replaced by `{id}`. A leading API-version segment that starts with a
/// digit (`2015-03-31`) is kept and does not count. Examples:
/// `GET /clusters/prod` → `GET /clusters/{id}`;
/// `DELETE /clusters/prod/node-groups/ng1` → `DELETE /clusters/{id}/node-groups/{id}`;
/// `GET /workspaces/ws-1/rulegroupsnamespaces` → `GET /workspaces/{id}/rulegroupsnamespaces`.
///
/// S3 (path style): the first segment is the bucket and the rest the key, so
/// `PUT /bucket/a/b.txt?tagging` → `PUT /{bucket}/{key}?tagging`; query
/// parameters without a value (S3 sub-resources such as `tagging`,
/// `versioning`, `uploads`) are appended, sorted, others are ignored.
pub fn rest_action(method: &Method, uri: &Uri, s3: bool) -> String {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let mut template = String::new();
    if s3 {
        if let Some(_bucket) = segments.first() {
            template.push_str("/{bucket}");
        }
        if segments.len() > 1 {
            template.push_str("/{key}");
        }
        if template.is_empty() {
            template.push('/');
        }
        let mut subresources: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| match p.split_once('=') {
                None => Some(percent_decode(p)),
                Some((k, "")) => Some(percent_decode(k)),
                Some(_) => None,
            })
            .collect();
        subresources.sort();
        subresources.dedup();
        if !subresources.is_empty() {
            template.push('?');
            template.push_str(&subresources.join("&"));
        }
    } else {
        let mut rest = segments.as_slice();
        if let Some(first) = rest.first() {
            if first.starts_with(|c: char| c.is_ascii_digit()) {
                template.push('/');
                template.push_str(first);
                rest = &rest[1..];
            }
        }
        for (i, segment) in rest.iter().enumerate() {
            template.push('/');
            if i % 2 == 0 {
                template.push_str(segment);
            } else {
                template.push_str("{id}");
            }
        }
        if template.is_empty() {
            template.push('/');
        }
    }
    format!("{} {}", method.as_str(), template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const EC2_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn query_protocol_from_form_body() {
        let h = headers(&[
            ("authorization", EC2_AUTH),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]);
        let c = classify(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=DescribeVpcs&Version=2016-11-15",
        );
        assert_eq!(c.service, "ec2");
        assert_eq!(c.action, "DescribeVpcs");
        assert_eq!(c.protocol, Protocol::Ec2Query);
    }

    #[test]
    fn query_protocol_from_query_string() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request,SignedHeaders=host,Signature=x",
        )]);
        let c = classify(
            &Method::GET,
            &Uri::from_static("/?Version=2011-06-15&Action=GetCallerIdentity"),
            &h,
            b"",
        );
        assert_eq!(
            (c.service.as_str(), c.action.as_str(), c.protocol),
            ("sts", "GetCallerIdentity", Protocol::Query)
        );
    }

    #[test]
    fn form_body_ignored_without_form_content_type() {
        let h = headers(&[("authorization", EC2_AUTH)]);
        let c = classify(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=DescribeVpcs",
        );
        assert_eq!(c.protocol, Protocol::RestJson);
    }

    #[test]
    fn json_protocol_from_target() {
        let h = headers(&[
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/logs/aws4_request, SignedHeaders=host, Signature=x",
            ),
            ("x-amz-target", "Logs_20140328.DescribeLogGroups"),
        ]);
        let c = classify(&Method::POST, &Uri::from_static("/"), &h, b"{}");
        assert_eq!(
            (c.service.as_str(), c.action.as_str(), c.protocol),
            ("logs", "DescribeLogGroups", Protocol::Json)
        );
    }

    #[test]
    fn rest_templates() {
        let eks = |m: Method, p: &'static str| rest_action(&m, &Uri::from_static(p), false);
        assert_eq!(eks(Method::GET, "/clusters/prod"), "GET /clusters/{id}");
        assert_eq!(eks(Method::GET, "/clusters"), "GET /clusters");
        assert_eq!(
            eks(Method::DELETE, "/clusters/prod/node-groups/ng1"),
            "DELETE /clusters/{id}/node-groups/{id}"
        );
        assert_eq!(
            eks(Method::GET, "/2015-03-31/functions/f1"),
            "GET /2015-03-31/functions/{id}"
        );
        assert_eq!(eks(Method::GET, "/"), "GET /");
        let s3 = |m: Method, p: &'static str| rest_action(&m, &Uri::from_static(p), true);
        assert_eq!(s3(Method::GET, "/"), "GET /");
        assert_eq!(s3(Method::PUT, "/bucket"), "PUT /{bucket}");
        assert_eq!(
            s3(Method::PUT, "/bucket/a/b.txt?tagging"),
            "PUT /{bucket}/{key}?tagging"
        );
        assert_eq!(
            s3(Method::GET, "/bucket?versioning=&list-type=2&acl"),
            "GET /{bucket}?acl&versioning"
        );
    }

    #[test]
    fn rest_classification_and_unknown_service() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        let c = classify(&Method::GET, &Uri::from_static("/clusters/prod"), &h, b"");
        assert_eq!(
            (c.service.as_str(), c.action.as_str(), c.protocol),
            ("eks", "GET /clusters/{id}", Protocol::RestJson)
        );
        let c = classify(
            &Method::GET,
            &Uri::from_static("/x"),
            &HeaderMap::new(),
            b"",
        );
        assert_eq!(c.service, UNKNOWN_SERVICE);
    }

    #[test]
    fn eks_stand_in_calls_get_their_names() {
        let h = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        let name = |m: Method, p: &'static str| classify(&m, &Uri::from_static(p), &h, b"").action;
        assert_eq!(name(Method::POST, "/clusters/prod/addons"), "CreateAddon");
        assert_eq!(
            name(
                Method::GET,
                "/addons/supported-versions?kubernetesVersion=1.31"
            ),
            "DescribeAddonVersions"
        );
        assert_eq!(
            name(Method::POST, "/clusters/prod/node-groups/ng/update-version"),
            "UpdateNodegroupVersion"
        );
        assert_eq!(
            name(Method::GET, "/clusters/prod/updates/u1"),
            "DescribeUpdate"
        );
        // Others keep their templates.
        assert_eq!(name(Method::GET, "/clusters/prod"), "GET /clusters/{id}");
        assert_eq!(
            name(Method::POST, "/clusters/prod/node-groups/ng/update-config"),
            "POST /clusters/{id}/node-groups/{id}/update-config"
        );
    }

    #[test]
    fn signing_region() {
        let h = headers(&[("authorization", EC2_AUTH)]);
        assert_eq!(
            region_of(&Uri::from_static("/"), &h).as_deref(),
            Some("us-east-1")
        );
        let presigned = Uri::from_static(
            "/b/k?X-Amz-Credential=AKID%2F20240101%2Feu-west-1%2Fs3%2Faws4_request",
        );
        assert_eq!(
            region_of(&presigned, &HeaderMap::new()).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of(&Uri::from_static("/"), &HeaderMap::new()), None);
    }

    #[test]
    fn access_key() {
        let h = headers(&[("authorization", EC2_AUTH)]);
        assert_eq!(
            access_key_of(&Uri::from_static("/"), &h).as_deref(),
            Some("AKIDEXAMPLE")
        );
        let presigned = Uri::from_static(
            "/b/k?X-Amz-Credential=AKID2%2F20240101%2Feu-west-1%2Fs3%2Faws4_request",
        );
        assert_eq!(
            access_key_of(&presigned, &HeaderMap::new()).as_deref(),
            Some("AKID2")
        );
        assert_eq!(
            access_key_of(&Uri::from_static("/"), &HeaderMap::new()),
            None
        );
    }

    #[test]
    fn presigned_credential() {
        let c = classify(
            &Method::GET,
            &Uri::from_static(
                "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request",
            ),
            &HeaderMap::new(),
            b"",
        );
        assert_eq!(c.service, "s3");
        assert_eq!(c.protocol, Protocol::RestXml);
        assert_eq!(c.action, "GET /{bucket}/{key}");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            form_param("a=1&Action=Describe%56pcs", "Action").as_deref(),
            Some("DescribeVpcs")
        );
        assert_eq!(form_param("a=1", "Action"), None);
    }
}
