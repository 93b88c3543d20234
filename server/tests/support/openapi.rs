//! Checks replies against the checked-in OpenAPI document: the status must be documented
//! for the operation, and the JSON body must fit the documented schema (types, required
//! properties, enums, `additionalProperties: false`, `$ref`, `oneOf`, `allOf`). Every reply
//! of the HTTP tests goes through [`check_reply`].

use lifecert_authority::routes::{OPENAPI, ROUTES};
use serde_json::Value;
use std::sync::OnceLock;

/// The parsed document.
pub fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(OPENAPI).expect("openapi.json is JSON"))
}

/// The route template a concrete path matches (`/v1/reviews/7` → `/v1/reviews/{id}`).
pub fn template_of(method: &str, path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .filter(|(m, _)| m.eq_ignore_ascii_case(method))
        .map(|(_, t)| *t)
        .find(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segments.len()
                && ts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
}

fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut node = doc();
            for part in r.trim_start_matches("#/").split('/') {
                node = &node[part];
            }
            assert!(!node.is_null(), "dangling $ref {r}");
            resolve(node)
        }
        None => v,
    }
}

fn type_ok(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other} in the document"),
    }
}

/// Errors of `value` against `schema`, with the JSON path.
pub fn violations(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(schema);
    let mut out = Vec::new();
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            out.extend(violations(s, value, at));
        }
    }
    if let Some(any) = schema.get("oneOf").and_then(Value::as_array) {
        if !any.iter().any(|s| violations(s, value, at).is_empty()) {
            out.push(format!("{at}: fits none of oneOf"));
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, value) => {
            out.push(format!("{at}: not {t}: {value}"));
            return out;
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap(), value)) => {
            out.push(format!("{at}: none of {ts:?}: {value}"));
            return out;
        }
        _ => {}
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        if !choices.contains(value) {
            out.push(format!("{at}: {value} not in {choices:?}"));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = r.as_str().unwrap();
            if !obj.contains_key(name) {
                out.push(format!("{at}: missing {name}"));
            }
        }
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => out.extend(violations(s, v, &format!("{at}.{k}"))),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{at}: undocumented property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            out.extend(violations(items, v, &format!("{at}[{i}]")));
        }
    }
    out
}

/// Asserts that a reply to `method path` with `status` and `body` is documented.
pub fn check_reply(method: &str, path: &str, status: u16, body: &Value) {
    let Some(template) = template_of(method, path) else {
        // Unknown routes: the error shape still holds.
        assert!(
            violations(&doc()["components"]["schemas"]["Error"], body, "$").is_empty(),
            "{method} {path}: {body}"
        );
        return;
    };
    let op = &doc()["paths"][template][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in openapi.json");
    let response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: status {status} is not documented ({body})"
    );
    let schema = &resolve(response)["content"]["application/json"]["schema"];
    if schema.is_null() {
        return;
    }
    let errors = violations(schema, body, "$");
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not fit the document:\n{}\n{body}",
        errors.join("\n")
    );
}
