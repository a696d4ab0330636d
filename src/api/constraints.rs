//! The constraints the server enforces, written into the spec: enums, integer ranges and
//! string lengths of request bodies and query parameters.

use crate::domain::attempt::Mode;

/// A constraint the server enforces, so that the spec says it too (clients validate before
/// sending, and generated code gets enums).
enum Rule {
    /// One of these strings (`null` too where the field is optional).
    OneOf(&'static [&'static str]),
    /// An integer in this range.
    Range(i64, i64),
    /// A string of this many characters.
    Length(usize, usize),
}

/// `(schema, property, rule)`: request bodies.
const BODY_RULES: &[(&str, &str, Rule)] = &[
    (
        "StartAttemptRequest",
        "mode",
        Rule::OneOf(&[Mode::Exam.as_str(), Mode::Practice.as_str()]),
    ),
    (
        "StartAttemptRequest",
        "count",
        Rule::Range(1, crate::services::attempts::MAX_CUSTOM_COUNT as i64),
    ),
    (
        "StartAttemptRequest",
        "time_limit_minutes",
        Rule::Range(1, 600),
    ),
    ("RegisterRequest", "password", Rule::Length(12, 128)),
    ("RegisterRequest", "display_name", Rule::Length(1, 80)),
    (
        "UpdateUserRequest",
        "role",
        Rule::OneOf(&["learner", "instructor", "admin"]),
    ),
    ("NewCohort", "name", Rule::Length(1, 100)),
    ("ExtensionRequest", "minutes", Rule::Range(0, 600)),
    ("PracticeRequest", "count", Rule::Range(1, 100)),
    (
        "PracticeRequest",
        "source",
        Rule::OneOf(&["weak", "mistakes", "due"]),
    ),
    (
        "NewReport",
        "kind",
        Rule::OneOf(&crate::services::questions::REPORT_KINDS),
    ),
    ("NewReport", "message", Rule::Length(1, 2000)),
    ("ResolveReport", "status", Rule::OneOf(&["resolved"])),
    (
        "QuestionDraft",
        "kind",
        Rule::OneOf(&["single", "multiple"]),
    ),
    ("QuestionDraft", "difficulty", Rule::Range(1, 3)),
    (
        "QuestionDraft",
        "exam_domain",
        Rule::OneOf(&crate::domain::question::EXAM_DOMAINS),
    ),
    ("QuestionDraft", "task", Rule::OneOf(&TASK_CODES)),
    ("BankItem", "kind", Rule::OneOf(&["single", "multiple"])),
    ("BankItem", "difficulty", Rule::Range(1, 3)),
    (
        "BankItem",
        "exam_domain",
        Rule::OneOf(&crate::domain::question::EXAM_DOMAINS),
    ),
    ("BankItem", "task", Rule::OneOf(&TASK_CODES)),
];

const TASK_CODES: [&str; 13] = {
    let mut out = [""; 13];
    let mut i = 0;
    while i < 13 {
        out[i] = crate::domain::question::TASKS[i].0;
        i += 1;
    }
    out
};

/// `(path, query parameter, rule)`.
const QUERY_RULES: &[(&str, &str, Rule)] = &[
    (
        "/api/v1/attempts/{id}/review",
        "filter",
        Rule::OneOf(&["wrong", "flagged"]),
    ),
    ("/api/v1/questions", "difficulty", Rule::Range(1, 3)),
    ("/api/v1/questions", "limit", Rule::Range(1, 100)),
    (
        "/api/v1/questions/export",
        "format",
        Rule::OneOf(&["json", "gift"]),
    ),
    ("/api/v1/me/mastery/history", "days", Rule::Range(1, 365)),
];

fn apply(rule: &Rule, schema: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let RefOr::T(Schema::Object(o)) = schema else {
        return;
    };
    let nullable = serde_json::to_value(&o.schema_type)
        .map(|t| t.to_string().contains("null"))
        .unwrap_or(false);
    match rule {
        Rule::OneOf(values) => {
            let mut v: Vec<serde_json::Value> = values.iter().map(|s| (*s).into()).collect();
            if nullable {
                v.push(serde_json::Value::Null);
            }
            o.enum_values = Some(v);
        }
        Rule::Range(lo, hi) => {
            o.minimum = Some((*lo).into());
            o.maximum = Some((*hi).into());
        }
        Rule::Length(lo, hi) => {
            o.min_length = Some(*lo);
            o.max_length = Some(*hi);
        }
    }
}

pub(super) fn constrain(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    if let Some(components) = openapi.components.as_mut() {
        for (name, prop, rule) in BODY_RULES {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(*name) {
                if let Some(p) = o.properties.get_mut(*prop) {
                    apply(rule, p);
                }
            }
        }
    }
    for (path, name, rule) in QUERY_RULES {
        let Some(item) = openapi.paths.paths.get_mut(*path) else {
            continue;
        };
        for op in [item.get.as_mut(), item.post.as_mut()]
            .into_iter()
            .flatten()
        {
            for p in op.parameters.iter_mut().flatten() {
                if p.name == *name {
                    if let Some(s) = p.schema.as_mut() {
                        apply(rule, s);
                    }
                }
            }
        }
    }
}
