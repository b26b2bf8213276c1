//! Documentation generated from the schemas: `docs/index.md` for the provider and one
//! page per data source and resource, in the layout the Terraform Registry reads. The
//! examples are included from `examples/`, so they are the same files users run.
//! A test fails when the committed docs differ from what this renders.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use paved_value::Type;

use crate::profiles;
use crate::schema::{Attribute, AttributeKind, Block, NestedBlock, Nesting, Presence};

/// Renders every page, keyed by its path under the docs directory.
/// `root` is the repository root (where `examples/` lives).
pub fn render_all(root: &Path) -> std::io::Result<BTreeMap<PathBuf, String>> {
    let service = crate::provider::service();
    let provider = crate::provider::PavedProvider;
    use crate::framework::ProviderDefinition as _;
    let mut pages = BTreeMap::new();

    let mut index = String::new();
    let _ = writeln!(
        index,
        "---\npage_title: \"paved provider\"\ndescription: |-\n  The paved road to production Kubernetes: HA clusters, managed databases and observability with production defaults.\n---\n"
    );
    let _ = writeln!(index, "# paved provider\n");
    let _ = writeln!(index, "{}\n", service.provider_schema().block.description);
    let _ = writeln!(index, "## Example Usage\n");
    index.push_str(&example(root, "examples/provider/provider.tf")?);
    index.push_str(&profiles_table());
    index.push_str(&schema_section(&service.provider_schema().block));
    let guides = guides(root)?;
    if !guides.is_empty() {
        let _ = writeln!(index, "\n## Guides\n");
        for (name, (title, _)) in &guides {
            let _ = writeln!(index, "- [{title}](guides/{name})");
        }
    }
    pages.insert(PathBuf::from("index.md"), index);
    for (name, (_, text)) in guides {
        pages.insert(PathBuf::from("guides").join(name), text);
    }

    for ds in provider.data_sources() {
        let short = short_name(ds.type_name());
        let schema = ds.schema();
        let mut page = page_header(ds.type_name(), "Data Source", &schema.block);
        page.push_str(&example(
            root,
            &format!("examples/data-sources/{short}/main.tf"),
        )?);
        page.push_str(&schema_section(&schema.block));
        pages.insert(PathBuf::from(format!("data-sources/{short}.md")), page);
    }
    for res in provider.resources() {
        let short = short_name(res.type_name());
        let schema = res.schema();
        let mut page = page_header(res.type_name(), "Resource", &schema.block);
        page.push_str(&example(root, &format!("examples/{short}/basic/main.tf"))?);
        if let Some(diagram) = crate::diagram::component_diagram(res.as_ref()) {
            page.push_str(&diagram);
        }
        page.push_str(&schema_section(&schema.block));
        pages.insert(PathBuf::from(format!("resources/{short}.md")), page);
    }
    Ok(pages)
}

/// Where a guide shows paved's price tables.
const PRICE_TABLES: &str = "{{price_tables}}";

/// paved's price tables as Markdown: their date and sources, then a table per cloud
/// with each region's prices.
fn price_tables() -> String {
    use paved_pricing::{aws, gcp};
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Prices as of **{}**. Sources:\n",
        paved_pricing::PRICES_AS_OF
    );
    for source in paved_pricing::SOURCES {
        let _ = writeln!(out, "- {source}");
    }
    let _ = writeln!(
        out,
        "\n### AWS\n\nEKS control plane ${:.2} an hour (extended support ${:.2}); public IPv4 address ${:.3} an hour; \
         KMS key ${:.2} a month; Secrets Manager secret ${:.2} a month.\n",
        aws::EKS_CONTROL_PLANE_HOUR,
        aws::EKS_EXTENDED_SUPPORT_HOUR,
        aws::PUBLIC_IPV4_HOUR,
        aws::KMS_KEY_MONTH,
        aws::SECRET_MONTH
    );
    let _ = writeln!(
        out,
        "| region | EC2 ratio | RDS ratio | NAT gateway /h | NAT /GB | EBS gp3 /GB-mo | RDS gp3 /GB-mo | RDS backup /GB-mo | S3 /GB-mo | Logs ingest /GB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in aws::REGIONS {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.compute_ratio,
            r.database_ratio,
            r.nat_gateway_hour,
            r.nat_gateway_gb,
            r.ebs_gp3_gb_month,
            r.rds_gp3_gb_month,
            r.rds_backup_gb_month,
            r.s3_gb_month,
            r.logs_ingest_gb
        );
    }
    let families = |table: &[(&str, f64)]| {
        table
            .iter()
            .map(|(f, p)| format!("`{f}` {p}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "\nEC2 families, the `large` size per hour in us-east-1 (other sizes scale: `medium` half, `xlarge` twice): {}.\n\n\
         RDS for PostgreSQL, Single-AZ, `db.<family>.large` per hour in us-east-1: {}.\n\n\
         Aurora PostgreSQL, `db.<family>.large` per hour in us-east-1: {}.",
        families(aws::EC2_LARGE_HOUR),
        families(aws::RDS_LARGE_HOUR),
        families(aws::AURORA_LARGE_HOUR)
    );
    let _ = writeln!(
        out,
        "\n### Google Cloud\n\nGKE cluster fee ${:.2} an hour; Cloud NAT ${} per VM-hour (at most ${} per gateway-hour) and \
         ${} per GB; external IPv4 address ${} an hour; Cloud KMS key version ${} a month; Cloud SQL Enterprise ${} per \
         vCPU-hour and ${} per GB-hour in us-central1 (highly available: twice), backups ${} per GB-month.\n",
        gcp::GKE_CLUSTER_HOUR,
        gcp::NAT_VM_HOUR,
        gcp::NAT_GATEWAY_MAX_HOUR,
        gcp::NAT_GB,
        gcp::EXTERNAL_IP_HOUR,
        gcp::KMS_KEY_VERSION_MONTH,
        gcp::SQL_VCPU_HOUR,
        gcp::SQL_GB_HOUR,
        gcp::SQL_BACKUP_GB_MONTH
    );
    let _ = writeln!(
        out,
        "| region | Compute ratio | Cloud SQL ratio | balanced PD /GB-mo | Cloud SQL SSD /GB-mo | Cloud Storage /GB-mo |\n|---|---:|---:|---:|---:|---:|"
    );
    for r in gcp::REGIONS {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.name,
            r.compute_ratio,
            r.sql_ratio,
            r.pd_balanced_gb_month,
            r.sql_ssd_gb_month,
            r.gcs_gb_month
        );
    }
    let series = gcp::SERIES_HOUR
        .iter()
        .map(|(s, cpu, gb)| format!("`{s}` {cpu} per vCPU-hour and {gb} per GB-hour"))
        .collect::<Vec<_>>()
        .join("; ");
    let _ = writeln!(out, "\nMachine series in us-central1: {series}.");
    out
}

/// The hand-written guides, `templates/guides/*.md` (page text as written, front
/// matter included), by file name, with the title their front matter gives.
fn guides(root: &Path) -> std::io::Result<BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    let dir = root.join("templates").join("guides");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?.replace(PRICE_TABLES, &price_tables());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("page_title: "))
            .map(|t| t.trim().trim_matches('"').to_owned())
            .unwrap_or_else(|| name.clone());
        out.insert(name, (title, text));
    }
    Ok(out)
}

/// Renders every page and writes it under `out`; returns the paths written.
pub fn write_all(root: &Path, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, text) in render_all(root)? {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// The type name without the provider prefix (`paved_zones` → `zones`).
pub fn short_name(type_name: &str) -> &str {
    type_name.strip_prefix("paved_").unwrap_or(type_name)
}

fn page_header(type_name: &str, kind: &str, block: &Block) -> String {
    let first_sentence = block.description.split(". ").next().unwrap_or_default();
    format!(
        "---\npage_title: \"{type_name} {kind} - paved\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n# {type_name} ({kind})\n\n{}\n\n## Example Usage\n\n",
        first_sentence.trim_end_matches('.'),
        block.description
    )
}

fn example(root: &Path, rel: &str) -> std::io::Result<String> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| std::io::Error::new(e.kind(), format!("example {rel} is missing: {e}")))?;
    Ok(format!("```terraform\n{}\n```\n\n", text.trim_end()))
}

fn profiles_table() -> String {
    let mut s = String::from(
        "## Profiles\n\nResources take `profile = \"production\" | \"staging\" | \"development\"`; \
         each profile stands for the defaults below, and every default can be overridden one \
         by one. Plans show the effective value of each.\n\n",
    );
    let names: Vec<&str> = profiles::ALL.iter().map(|p| p.name()).collect();
    let _ = writeln!(s, "| setting | {} |", names.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(names.len()));
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows = [
        profiles::markdown_row("zones", |d| d.zones.to_string()),
        profiles::markdown_row("NAT gateways", |d| match d.nat {
            profiles::NatMode::PerZone => "one per zone".into(),
            profiles::NatMode::Single => "one".into(),
        }),
        profiles::markdown_row("system pool size", |d| {
            format!("{}-{}", d.system_pool_min, d.system_pool_max)
        }),
        profiles::markdown_row("control-plane logs", |d| {
            format!(
                "{}, {} days",
                d.control_plane_log_types.join("+"),
                d.control_plane_log_days
            )
        }),
        profiles::markdown_row("DB Multi-AZ", |d| yes_no(d.db_multi_az)),
        profiles::markdown_row("DB read replicas", |d| d.db_read_replicas.to_string()),
        profiles::markdown_row("DB backup retention", |d| {
            format!("{} days", d.db_backup_retention_days)
        }),
        profiles::markdown_row("DB final snapshot", |d| yes_no(d.db_final_snapshot)),
        profiles::markdown_row("deletion protection", |d| yes_no(d.deletion_protection)),
        profiles::markdown_row("Prometheus", |d| {
            format!(
                "{} replica(s), {} d",
                d.prometheus_replicas, d.prometheus_retention_days
            )
        }),
        profiles::markdown_row("Alertmanager replicas", |d| {
            d.alertmanager_replicas.to_string()
        }),
        profiles::markdown_row("Loki / Tempo retention", |d| {
            format!("{} d / {} d", d.loki_retention_days, d.tempo_retention_days)
        }),
    ];
    for r in rows {
        let _ = writeln!(s, "{r}");
    }
    s.push('\n');
    s
}

/// The "Schema" section: required, optional and read-only attributes, then one
/// section per nested block or nested attribute object.
fn schema_section(block: &Block) -> String {
    let mut out = String::from("## Schema\n\n");
    let mut nested = Vec::new();
    render_block(block, "", &mut out, &mut nested);
    while !nested.is_empty() {
        let (anchor, title, inner) = nested.remove(0);
        let _ = writeln!(
            out,
            "<a id=\"{anchor}\"></a>\n### Nested Schema for `{title}`\n"
        );
        let mut more = Vec::new();
        render_block(&inner, &title, &mut out, &mut more);
        nested.extend(more);
    }
    out
}

type NestedSection = (String, String, Block);

/// A docs section title and which attributes belong in it.
type Group = (&'static str, fn(Presence) -> bool);

fn render_block(block: &Block, prefix: &str, out: &mut String, nested: &mut Vec<NestedSection>) {
    let groups: [Group; 3] = [
        ("Required", |p| p == Presence::Required),
        ("Optional", |p| {
            matches!(p, Presence::Optional | Presence::OptionalComputed)
        }),
        ("Read-Only", |p| p == Presence::Computed),
    ];
    for (title, pick) in groups {
        let attrs: Vec<&Attribute> = block
            .attributes
            .iter()
            .filter(|a| pick(a.presence))
            .collect();
        let blocks: Vec<&NestedBlock> = block
            .blocks
            .iter()
            .filter(|b| {
                pick(if b.min_items > 0 {
                    Presence::Required
                } else {
                    Presence::Optional
                })
            })
            .collect();
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let heading = if prefix.is_empty() { "###" } else { "Nested" };
        if heading == "###" {
            let _ = writeln!(out, "### {title}\n");
        } else {
            let _ = writeln!(out, "{title}:\n");
        }
        for a in attrs {
            let _ = writeln!(out, "{}", attribute_line(a, prefix, nested));
        }
        for b in blocks {
            let path = join(prefix, &b.type_name);
            let anchor = format!("nestedblock--{}", path.replace('.', "--"));
            let kind = match b.nesting {
                Nesting::Single | Nesting::Group => "Block",
                Nesting::List => "Block List",
                Nesting::Set => "Block Set",
                Nesting::Map => "Block Map",
            };
            let _ = writeln!(
                out,
                "- `{}` ({kind}{}) {} (see [below for nested schema](#{anchor}))",
                b.type_name,
                if b.max_items > 0 {
                    format!(", Max: {}", b.max_items)
                } else {
                    String::new()
                },
                b.block.description
            );
            nested.push((anchor, path, b.block.clone()));
        }
        out.push('\n');
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn attribute_line(a: &Attribute, prefix: &str, nested: &mut Vec<NestedSection>) -> String {
    let mut flags = vec![type_label(a)];
    if a.sensitive {
        flags.push("Sensitive".into());
    }
    if a.deprecated.is_some() {
        flags.push("Deprecated".into());
    }
    let mut line = format!("- `{}` ({}) {}", a.name, flags.join(", "), a.description);
    if a.requires_replace {
        line.push_str(" Changing it replaces the resource.");
    }
    for check in &a.checks {
        let _ = write!(line, " {}", check.doc());
    }
    if let Some(d) = a.default_text() {
        let _ = write!(line, " Default: {d}.");
    }
    if let Some(msg) = &a.deprecated {
        let _ = write!(line, " **Deprecated:** {msg}");
    }
    if let AttributeKind::Nested { attributes, .. } = &a.kind {
        let path = join(prefix, &a.name);
        let anchor = format!("nestedatt--{}", path.replace('.', "--"));
        let _ = write!(line, " (see [below for nested schema](#{anchor}))");
        let block = Block {
            attributes: attributes.clone(),
            ..Block::default()
        };
        nested.push((anchor, path, block));
    }
    line
}

fn type_label(a: &Attribute) -> String {
    match &a.kind {
        AttributeKind::Plain(t) => type_name(t),
        AttributeKind::Nested { nesting, .. } => match nesting {
            Nesting::Single | Nesting::Group => "Attributes".into(),
            Nesting::List => "Attributes List".into(),
            Nesting::Set => "Attributes Set".into(),
            Nesting::Map => "Attributes Map".into(),
        },
    }
}

fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}
