//! A small typed model of Alloy's configuration syntax: blocks with an optional
//! label, attributes, and values (strings, numbers, booleans, lists, objects,
//! references to another component's exports, function calls and `+`). Rendering
//! quotes and escapes every string, so a value from the spec can never break out of
//! its string. [`check`] holds the tree against the table of components we use
//! ([`COMPONENTS`]); [`parse`] reads rendered text back into the tree.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// A value on the right of `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string, quoted and escaped when rendered.
    String(String),
    /// An integer.
    Number(i64),
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b]`.
    List(Vec<Value>),
    /// `{ key = value, ... }`, keys in the given order.
    Object(Vec<(String, Value)>),
    /// A dotted reference to another component's export
    /// (`discovery.relabel.pods.output`).
    Ref(String),
    /// A standard-library call (`env("NODE_NAME")`).
    Call(String, Vec<Value>),
    /// Values joined with `+` (string concatenation).
    Concat(Vec<Value>),
}

impl Value {
    /// A string value.
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    /// A list of strings.
    pub fn strings<S: AsRef<str>>(items: &[S]) -> Value {
        Value::List(items.iter().map(|s| Value::string(s.as_ref())).collect())
    }

    /// A reference to the export `export` of `component` (which must be labelled).
    pub fn export(component: &Block, export: &str) -> Value {
        let label = component.label.as_deref().unwrap_or_default();
        Value::Ref(format!("{}.{label}.{export}", component.name))
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Number(value)
    }
}

/// One statement in a block's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `name = value`.
    Attribute(String, Value),
    /// A nested block.
    Block(Block),
}

/// A block: a component (`loki.write "default" { ... }`), a configuration block
/// (`logging { ... }`) or a block inside either (`endpoint { ... }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's (dotted) name.
    pub name: String,
    /// The label; components have one, other blocks none.
    pub label: Option<String>,
    /// Attributes and nested blocks, in order.
    pub body: Vec<Statement>,
}

impl Block {
    /// An unlabelled block.
    pub fn new(name: &str) -> Block {
        Block {
            name: name.to_string(),
            label: None,
            body: Vec::new(),
        }
    }

    /// A component: a block with a label.
    pub fn component(name: &str, label: &str) -> Block {
        Block {
            name: name.to_string(),
            label: Some(label.to_string()),
            body: Vec::new(),
        }
    }

    /// Adds `name = value`.
    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Block {
        self.body
            .push(Statement::Attribute(name.to_string(), value.into()));
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: Block) -> Block {
        self.body.push(Statement::Block(block));
        self
    }
}

/// A whole configuration file: top-level blocks in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The blocks.
    pub blocks: Vec<Block>,
}

impl Config {
    /// The configuration as Alloy text (tab-indented, as `alloy fmt` writes it).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            render_block(&mut out, block, 0);
        }
        out
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

fn render_block(out: &mut String, block: &Block, depth: usize) {
    indent(out, depth);
    out.push_str(&block.name);
    if let Some(label) = &block.label {
        out.push(' ');
        out.push_str(&quote(label));
    }
    if block.body.is_empty() {
        out.push_str(" { }\n");
        return;
    }
    out.push_str(" {\n");
    for statement in &block.body {
        match statement {
            Statement::Attribute(name, value) => {
                indent(out, depth + 1);
                out.push_str(name);
                out.push_str(" = ");
                render_value(out, value, depth + 1);
                out.push('\n');
            }
            Statement::Block(inner) => render_block(out, inner, depth + 1),
        }
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn render_value(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::String(text) => out.push_str(&quote(text)),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Ref(path) => out.push_str(path),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_value(out, item, depth);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (key, item) in entries {
                indent(out, depth + 1);
                if is_identifier(key) {
                    out.push_str(key);
                } else {
                    out.push_str(&quote(key));
                }
                out.push_str(" = ");
                render_value(out, item, depth + 1);
                out.push_str(",\n");
            }
            indent(out, depth);
            out.push('}');
        }
        Value::Call(name, args) => {
            out.push_str(name);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_value(out, arg, depth);
            }
            out.push(')');
        }
        Value::Concat(parts) => {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" + ");
                }
                render_value(out, part, depth);
            }
        }
    }
}

/// `text` as an Alloy string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `text` is an Alloy identifier (a letter or `_`, then letters, digits, `_`).
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The arguments and nested blocks one block accepts.
#[derive(Debug)]
pub struct BlockSchema {
    /// The block's name.
    pub name: &'static str,
    /// Its arguments.
    pub attributes: &'static [&'static str],
    /// Blocks it may contain.
    pub blocks: &'static [BlockSchema],
}

/// One component: its arguments, blocks and exports.
#[derive(Debug)]
pub struct ComponentSchema {
    /// The component's name.
    pub name: &'static str,
    /// Its arguments.
    pub attributes: &'static [&'static str],
    /// Blocks it may contain.
    pub blocks: &'static [BlockSchema],
    /// The fields other components may reference.
    pub exports: &'static [&'static str],
}

const RULE: BlockSchema = BlockSchema {
    name: "rule",
    attributes: &[
        "source_labels",
        "separator",
        "regex",
        "modulus",
        "target_label",
        "replacement",
        "action",
    ],
    blocks: &[],
};

const OTEL_OUTPUT: BlockSchema = BlockSchema {
    name: "output",
    attributes: &["metrics", "logs", "traces"],
    blocks: &[],
};

const TLS_CLIENT: BlockSchema = BlockSchema {
    name: "tls",
    attributes: &[
        "insecure",
        "insecure_skip_verify",
        "ca_file",
        "ca_pem",
        "cert_file",
        "cert_pem",
        "key_file",
        "key_pem",
        "server_name",
        "min_version",
        "max_version",
    ],
    blocks: &[],
};

/// The components of Alloy v1.3 the renderer uses, with the arguments, blocks
/// and exports of each that the renderer may write (a subset of each component's
/// documented arguments).
pub const COMPONENTS: &[ComponentSchema] = &[
    ComponentSchema {
        name: "discovery.kubernetes",
        attributes: &["api_server", "role", "kubeconfig_file"],
        blocks: &[
            BlockSchema {
                name: "namespaces",
                attributes: &["own_namespace", "names"],
                blocks: &[],
            },
            BlockSchema {
                name: "selectors",
                attributes: &["role", "label", "field"],
                blocks: &[],
            },
            BlockSchema {
                name: "attach_metadata",
                attributes: &["node"],
                blocks: &[],
            },
        ],
        exports: &["targets"],
    },
    ComponentSchema {
        name: "discovery.relabel",
        attributes: &["targets"],
        blocks: &[RULE],
        exports: &["output", "rules"],
    },
    ComponentSchema {
        name: "local.file_match",
        attributes: &["path_targets", "sync_period"],
        blocks: &[],
        exports: &["targets"],
    },
    ComponentSchema {
        name: "loki.source.file",
        attributes: &["targets", "forward_to", "encoding", "tail_from_end"],
        blocks: &[],
        exports: &[],
    },
    ComponentSchema {
        name: "loki.source.kubernetes",
        attributes: &["targets", "forward_to"],
        blocks: &[],
        exports: &[],
    },
    ComponentSchema {
        name: "loki.process",
        attributes: &["forward_to"],
        blocks: &[
            BlockSchema {
                name: "stage.cri",
                attributes: &[
                    "max_partial_lines",
                    "max_partial_line_size",
                    "max_partial_line_size_truncate",
                ],
                blocks: &[],
            },
            BlockSchema {
                name: "stage.static_labels",
                attributes: &["values"],
                blocks: &[],
            },
        ],
        exports: &["receiver"],
    },
    ComponentSchema {
        name: "loki.write",
        attributes: &["external_labels", "max_streams"],
        blocks: &[BlockSchema {
            name: "endpoint",
            attributes: &[
                "url",
                "name",
                "batch_wait",
                "batch_size",
                "remote_timeout",
                "tenant_id",
                "min_backoff_period",
                "max_backoff_period",
                "max_backoff_retries",
                "retry_on_http_429",
            ],
            blocks: &[],
        }],
        exports: &["receiver"],
    },
    ComponentSchema {
        name: "otelcol.receiver.otlp",
        attributes: &[],
        blocks: &[
            BlockSchema {
                name: "grpc",
                attributes: &["endpoint", "transport", "max_recv_msg_size"],
                blocks: &[],
            },
            BlockSchema {
                name: "http",
                attributes: &["endpoint", "max_request_body_size", "include_metadata"],
                blocks: &[],
            },
            OTEL_OUTPUT,
        ],
        exports: &[],
    },
    ComponentSchema {
        name: "otelcol.processor.memory_limiter",
        attributes: &[
            "check_interval",
            "limit",
            "spike_limit",
            "limit_percentage",
            "spike_limit_percentage",
        ],
        blocks: &[OTEL_OUTPUT],
        exports: &["input"],
    },
    ComponentSchema {
        name: "otelcol.processor.batch",
        attributes: &["timeout", "send_batch_size", "send_batch_max_size"],
        blocks: &[OTEL_OUTPUT],
        exports: &["input"],
    },
    ComponentSchema {
        name: "otelcol.exporter.otlp",
        attributes: &["timeout"],
        blocks: &[BlockSchema {
            name: "client",
            attributes: &["endpoint", "compression", "balancer_name", "wait_for_ready"],
            blocks: &[TLS_CLIENT],
        }],
        exports: &["input"],
    },
];

/// Top-level configuration blocks (unlabelled, not components).
pub const CONFIG_BLOCKS: &[BlockSchema] = &[BlockSchema {
    name: "logging",
    attributes: &["level", "format"],
    blocks: &[],
}];

/// Standard-library functions the renderer may call.
pub const FUNCTIONS: &[&str] = &["env", "concat", "coalesce"];

/// Every problem of `config` against [`COMPONENTS`]: an unknown component, block
/// or argument, a component without a valid label (or two with the same), a
/// reference to a component or export that does not exist, an unknown function.
pub fn check(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let mut declared: BTreeSet<(String, String)> = BTreeSet::new();
    for block in &config.blocks {
        match (
            &block.label,
            COMPONENTS.iter().find(|c| c.name == block.name),
        ) {
            (Some(label), Some(_)) => {
                if !is_identifier(label) {
                    problems.push(format!(
                        "{} {label:?}: a label must be an identifier",
                        block.name
                    ));
                }
                if !declared.insert((block.name.clone(), label.clone())) {
                    problems.push(format!("{} {label:?} is declared twice", block.name));
                }
            }
            (None, Some(_)) => problems.push(format!("{} has no label", block.name)),
            (Some(label), None) => {
                problems.push(format!("{} {label:?} is not a known component", block.name))
            }
            (None, None) => {
                if !CONFIG_BLOCKS.iter().any(|b| b.name == block.name) {
                    problems.push(format!("{} is not a known block", block.name));
                }
            }
        }
    }
    for block in &config.blocks {
        let (attributes, blocks) = match COMPONENTS.iter().find(|c| c.name == block.name) {
            Some(c) => (c.attributes, c.blocks),
            None => match CONFIG_BLOCKS.iter().find(|b| b.name == block.name) {
                Some(b) => (b.attributes, b.blocks),
                None => continue,
            },
        };
        check_body(
            &block.name,
            block,
            attributes,
            blocks,
            &declared,
            &mut problems,
        );
    }
    problems
}

fn check_body(
    path: &str,
    block: &Block,
    attributes: &[&str],
    blocks: &[BlockSchema],
    declared: &BTreeSet<(String, String)>,
    problems: &mut Vec<String>,
) {
    for statement in &block.body {
        match statement {
            Statement::Attribute(name, value) => {
                if !attributes.contains(&name.as_str()) {
                    problems.push(format!("{path}: unknown argument {name:?}"));
                }
                check_value(&format!("{path}.{name}"), value, declared, problems);
            }
            Statement::Block(inner) => {
                let inner_path = format!("{path} > {}", inner.name);
                if inner.label.is_some() {
                    problems.push(format!("{inner_path}: a nested block takes no label"));
                }
                match blocks.iter().find(|b| b.name == inner.name) {
                    Some(schema) => check_body(
                        &inner_path,
                        inner,
                        schema.attributes,
                        schema.blocks,
                        declared,
                        problems,
                    ),
                    None => problems.push(format!("{path}: unknown block {:?}", inner.name)),
                }
            }
        }
    }
}

fn check_value(
    path: &str,
    value: &Value,
    declared: &BTreeSet<(String, String)>,
    problems: &mut Vec<String>,
) {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
        Value::List(items) | Value::Concat(items) => {
            for item in items {
                check_value(path, item, declared, problems);
            }
        }
        Value::Object(entries) => {
            for (_, item) in entries {
                check_value(path, item, declared, problems);
            }
        }
        Value::Call(name, args) => {
            if !FUNCTIONS.contains(&name.as_str()) {
                problems.push(format!("{path}: unknown function {name:?}"));
            }
            for arg in args {
                check_value(path, arg, declared, problems);
            }
        }
        Value::Ref(reference) => {
            let resolved = COMPONENTS.iter().find_map(|c| {
                let rest = reference.strip_prefix(c.name)?.strip_prefix('.')?;
                let (label, export) = rest.split_once('.')?;
                Some((c, label, export))
            });
            match resolved {
                Some((component, label, export)) => {
                    if !declared.contains(&(component.name.to_string(), label.to_string())) {
                        problems.push(format!(
                            "{path}: {reference} refers to {} {label:?}, which is not declared",
                            component.name
                        ));
                    }
                    if !component.exports.contains(&export) {
                        problems.push(format!("{path}: {} exports no {export:?}", component.name));
                    }
                }
                None => problems.push(format!(
                    "{path}: {reference} does not refer to a known component's export"
                )),
            }
        }
    }
}

/// Reads Alloy text as written by [`Config::render`] back into a [`Config`]: the
/// subset of the syntax the builder writes (no comments are kept; number literals
/// are integers).
pub fn parse(text: &str) -> Result<Config, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let mut config = Config::default();
    while parser.peek().is_some() {
        match parser.statement()? {
            Statement::Block(block) => config.blocks.push(block),
            Statement::Attribute(name, _) => {
                return Err(format!("attribute {name:?} outside any block"))
            }
        }
    }
    Ok(config)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Str(String),
    Number(i64),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let n = literal
                .parse::<i64>()
                .map_err(|e| format!("number {literal:?}: {e}"))?;
            tokens.push(Token::Number(n));
        } else if c == '"' {
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err("unterminated string".to_string());
                };
                i += 1;
                match c {
                    '"' => break,
                    '\n' => return Err("newline in a string".to_string()),
                    '\\' => {
                        let Some(&e) = chars.get(i) else {
                            return Err("unterminated escape".to_string());
                        };
                        i += 1;
                        match e {
                            '"' => s.push('"'),
                            '\\' => s.push('\\'),
                            'n' => s.push('\n'),
                            'r' => s.push('\r'),
                            't' => s.push('\t'),
                            'u' => {
                                let hex: String =
                                    chars.get(i..i + 4).unwrap_or_default().iter().collect();
                                let code = u32::from_str_radix(&hex, 16)
                                    .map_err(|_| format!("bad escape \\u{hex}"))?;
                                s.push(char::from_u32(code).ok_or("bad code point")?);
                                i += 4;
                            }
                            other => return Err(format!("unknown escape \\{other}")),
                        }
                    }
                    c => s.push(c),
                }
            }
            tokens.push(Token::Str(s));
        } else if "{}[]()=,+".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<Token, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("unexpected end of text")?;
        self.at += 1;
        Ok(token)
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Token::Punct(p) if p == c => Ok(()),
            other => Err(format!("expected {c:?}, found {other:?}")),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn statement(&mut self) -> Result<Statement, String> {
        let name = match self.next()? {
            Token::Name(name) => name,
            other => return Err(format!("expected a name, found {other:?}")),
        };
        if self.eat('=') {
            return Ok(Statement::Attribute(name, self.expression()?));
        }
        let label = match self.peek() {
            Some(Token::Str(label)) => {
                let label = label.clone();
                self.at += 1;
                Some(label)
            }
            _ => None,
        };
        self.expect('{')?;
        let mut body = Vec::new();
        while !self.eat('}') {
            body.push(self.statement()?);
        }
        Ok(Statement::Block(Block { name, label, body }))
    }

    fn expression(&mut self) -> Result<Value, String> {
        let first = self.primary()?;
        if self.peek() != Some(&Token::Punct('+')) {
            return Ok(first);
        }
        let mut parts = vec![first];
        while self.eat('+') {
            parts.push(self.primary()?);
        }
        Ok(Value::Concat(parts))
    }

    fn primary(&mut self) -> Result<Value, String> {
        match self.next()? {
            Token::Str(s) => Ok(Value::String(s)),
            Token::Number(n) => Ok(Value::Number(n)),
            Token::Name(name) if name == "true" => Ok(Value::Bool(true)),
            Token::Name(name) if name == "false" => Ok(Value::Bool(false)),
            Token::Name(name) => {
                if self.eat('(') {
                    let mut args = Vec::new();
                    while !self.eat(')') {
                        args.push(self.expression()?);
                        if !self.eat(',') {
                            self.expect(')')?;
                            break;
                        }
                    }
                    Ok(Value::Call(name, args))
                } else {
                    Ok(Value::Ref(name))
                }
            }
            Token::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.expression()?);
                    if !self.eat(',') {
                        self.expect(']')?;
                        break;
                    }
                }
                Ok(Value::List(items))
            }
            Token::Punct('{') => {
                let mut entries = Vec::new();
                while !self.eat('}') {
                    let key = match self.next()? {
                        Token::Name(key) | Token::Str(key) => key,
                        other => return Err(format!("expected an object key, found {other:?}")),
                    };
                    self.expect('=')?;
                    entries.push((key, self.expression()?));
                    if !self.eat(',') {
                        self.expect('}')?;
                        break;
                    }
                }
                Ok(Value::Object(entries))
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        let source = Block::component("discovery.kubernetes", "pods")
            .attr("role", "pod")
            .block(Block::new("selectors").attr("role", "pod").attr(
                "field",
                Value::Concat(vec![
                    Value::string("spec.nodeName="),
                    Value::Call("env".into(), vec![Value::string("NODE_NAME")]),
                ]),
            ));
        let write = Block::component("loki.write", "default")
            .block(Block::new("endpoint").attr("url", "http://loki:3100/loki/api/v1/push"))
            .attr(
                "external_labels",
                Value::Object(vec![(
                    "cluster".into(),
                    Value::string("a \"quoted\" \\ name\n"),
                )]),
            );
        let relabel = Block::component("discovery.relabel", "pods")
            .attr("targets", Value::export(&source, "targets"))
            .block(
                Block::new("rule")
                    .attr(
                        "source_labels",
                        Value::strings(&["__meta_kubernetes_namespace"]),
                    )
                    .attr("target_label", "namespace"),
            );
        Config {
            blocks: vec![
                Block::new("logging").attr("level", "info"),
                source,
                relabel,
                write,
            ],
        }
    }

    #[test]
    fn renders_and_parses_back() {
        let config = sample();
        let text = config.render();
        assert!(text.contains("field = \"spec.nodeName=\" + env(\"NODE_NAME\")"));
        assert!(text.contains("cluster = \"a \\\"quoted\\\" \\\\ name\\n\","));
        assert_eq!(parse(&text), Ok(config.clone()));
        assert!(check(&config).is_empty(), "{:?}", check(&config));
    }

    #[test]
    fn hostile_strings_stay_strings() {
        let evil = "x\" }\nloki.write \"evil\" { endpoint { url = \"http://evil\" } } //";
        let config = Config {
            blocks: vec![Block::component("loki.write", "default")
                .block(Block::new("endpoint").attr("url", evil))],
        };
        let parsed = parse(&config.render()).expect("parses");
        assert_eq!(parsed.blocks.len(), 1);
        assert_eq!(parsed, config);
    }

    #[test]
    fn check_finds_unknown_names_and_dangling_references() {
        let config = Config {
            blocks: vec![
                Block::component("loki.wirte", "default"),
                Block::component("loki.write", "default").attr("url", "x"),
                Block::component("discovery.relabel", "pods")
                    .attr(
                        "targets",
                        Value::Ref("discovery.kubernetes.nodes.targets".into()),
                    )
                    .block(Block::new("rul")),
                Block::component("local.file_match", "pods").attr(
                    "path_targets",
                    Value::Ref("discovery.relabel.pods.outputs".into()),
                ),
            ],
        };
        let problems = check(&config);
        let text = problems.join("\n");
        assert!(text.contains("loki.wirte \"default\" is not a known component"));
        assert!(text.contains("loki.write: unknown argument \"url\""));
        assert!(text.contains("not declared"));
        assert!(text.contains("unknown block \"rul\""));
        assert!(text.contains("exports no \"outputs\""));
    }

    #[test]
    fn parse_rejects_broken_text() {
        assert!(parse("loki.write \"a\" {").is_err());
        assert!(parse("x = 1").is_err());
        assert!(parse("a { b = \"unterminated }").is_err());
    }
}
