//! Batch output files of both engines' shapes (`tests/fixtures/batch/`), read
//! as the app imports them and as the `batch` example reports them.

use fannotate_core::batch::{
    parse_output, BatchError, FailureKind, OutputFormat, ProblemKind, ResultStatus,
};
use serde_json::{json, Value};
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/batch")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn openai_output_gives_results_and_line_numbered_problems() {
    let out = parse_output(&fixture("openai.jsonl")).unwrap();
    assert_eq!(out.format, OutputFormat::OpenAi);
    let lines: Vec<(usize, &str, ResultStatus)> = out
        .results
        .iter()
        .map(|r| (r.line, r.custom_id.as_str(), r.status()))
        .collect();
    assert_eq!(
        lines,
        [
            (1, "fa-r1-0-0", ResultStatus::Ok),
            (2, "fa-r1-1-0", ResultStatus::Error),
            (3, "fa-r1-2-0", ResultStatus::Error),
            (5, "fa-r1-4-0", ResultStatus::Ok),
            (7, "fa-r1-6-0", ResultStatus::Error),
            (9, "request-9", ResultStatus::Ok),
        ]
    );
    let first = &out.results[0];
    let answer = first.answer(100, true).unwrap();
    assert_eq!(answer.content, "spam");
    assert_eq!((answer.tokens_in, answer.tokens_out), (38, 2));
    assert!(!answer.tokens_estimated);
    assert!((answer.confidence.unwrap() - (-0.3f64).exp()).abs() < 1e-12);
    // No usage in the body: estimated from the prompt, as for a live answer.
    let estimated = out.results[3].answer(100, true).unwrap();
    assert_eq!((estimated.tokens_in, estimated.tokens_out), (25, 1));
    assert!(estimated.tokens_estimated && estimated.confidence.is_none());

    let kinds: Vec<FailureKind> = out
        .results
        .iter()
        .filter_map(|r| r.error().map(|e| e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            FailureKind::Http(400),
            FailureKind::Engine,
            FailureKind::NotACompletion
        ]
    );
    let http = out.results[1].answer(0, true).unwrap_err();
    assert!(
        http.message.contains("integer below minimum value"),
        "{http:?}"
    );
    assert!(http.raw.contains("integer_below_min_value"));

    let problems: Vec<(usize, &ProblemKind)> =
        out.problems.iter().map(|p| (p.line, &p.kind)).collect();
    assert!(matches!(problems[0], (4, ProblemKind::Malformed(_))));
    assert_eq!(problems[1], (6, &ProblemKind::Duplicate { first_line: 1 }));
    assert_eq!(problems[2], (10, &ProblemKind::Truncated));
    assert_eq!(problems.len(), 3);
}

#[test]
fn anthropic_output_tells_each_result_type() {
    let out = parse_output(&fixture("anthropic.jsonl")).unwrap();
    assert_eq!(out.format, OutputFormat::Anthropic);
    let got: Vec<(usize, Option<&str>, Option<FailureKind>)> = out
        .results
        .iter()
        .map(|r| (r.line, r.content(), r.error().map(|e| e.kind)))
        .collect();
    assert_eq!(
        got,
        [
            (1, Some("spam"), None),
            (2, None, Some(FailureKind::Errored)),
            (3, None, Some(FailureKind::Canceled)),
            (4, None, Some(FailureKind::Expired)),
        ]
    );
    let a = out.results[0].answer(0, true).unwrap();
    assert_eq!((a.tokens_in, a.tokens_out, a.confidence), (41, 3, None));
    assert_eq!(
        out.results[1].error().unwrap().message,
        "invalid_request_error: max_tokens: Field required"
    );
    let problems: Vec<(usize, &ProblemKind)> =
        out.problems.iter().map(|p| (p.line, &p.kind)).collect();
    assert_eq!(problems[0], (5, &ProblemKind::Duplicate { first_line: 1 }));
    assert!(matches!(problems[1], (6, ProblemKind::Malformed(d)) if d.contains("pending")));
    assert_eq!(
        problems[2],
        (7, &ProblemKind::OtherFormat(OutputFormat::OpenAi))
    );
    assert_eq!(problems[3], (8, &ProblemKind::Truncated));
    assert_eq!(problems.len(), 4);
}

#[test]
fn files_that_are_no_batch_output_are_refused() {
    for (name, says) in [
        ("input.jsonl", "input file"),
        ("table.csv", "no line is a batch result"),
        ("empty.jsonl", "empty"),
    ] {
        match parse_output(&fixture(name)) {
            Err(BatchError::NotBatchOutput(reason)) => {
                assert!(reason.contains(says), "{name}: {reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn results_of_other_runs_and_tools_are_problems_of_the_run() {
    let out = parse_output(&fixture("openai.jsonl")).unwrap();
    // Run r1 asked rows 0 to 5 once each.
    let (ours, problems) = out.for_run("r1", |row, k| row < 6 && k == 0);
    let rows: Vec<u32> = ours.iter().map(|(id, _)| id.row()).collect();
    assert_eq!(rows, [0, 1, 2, 4]);
    let kinds: Vec<(usize, &ProblemKind)> = problems.iter().map(|p| (p.line, &p.kind)).collect();
    assert_eq!(
        kinds,
        [
            (7, &ProblemKind::Unexpected("fa-r1-6-0".into())),
            (9, &ProblemKind::ForeignId("request-9".into())),
        ]
    );
    let (ours, problems) = out.for_run("r2", |_, _| true);
    assert!(ours.is_empty());
    assert!(problems
        .iter()
        .all(|p| matches!(&p.kind, ProblemKind::OtherRun(r) if r == "r1")
            || matches!(p.kind, ProblemKind::ForeignId(_))));
}

/// What `cargo run -p fannotate-core --example batch -- parse-output FILE`
/// prints: the example prints [`fannotate_core::batch::BatchOutput::report`].
#[test]
fn the_example_reports_the_documented_contract() {
    let report = parse_output(&fixture("anthropic.jsonl")).unwrap().report();
    let problems: Vec<Value> = report["problems"].as_array().unwrap().clone();
    assert_eq!(report["format"], "anthropic");
    assert_eq!(
        report["results"],
        json!([
            {"custom_id": "fa-r2-0-0", "line": 1, "status": "ok", "content": "spam", "error": null},
            {"custom_id": "fa-r2-1-0", "line": 2, "status": "error", "content": null,
             "error": "invalid_request_error: max_tokens: Field required"},
            {"custom_id": "fa-r2-2-0", "line": 3, "status": "error", "content": null,
             "error": "the batch was canceled before this request ran"},
            {"custom_id": "fa-r2-3-0", "line": 4, "status": "error", "content": null,
             "error": "the batch expired before this request ran"},
        ])
    );
    let lines: Vec<u64> = problems
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5, 6, 7, 8]);
    assert!(problems
        .iter()
        .all(|p| p["reason"].is_string()
            && p.as_object().unwrap().keys().eq(["line", "reason"].iter())));
    assert!(problems[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("duplicate"));
    assert!(problems[3]["reason"]
        .as_str()
        .unwrap()
        .starts_with("truncated"));
    let openai = parse_output(&fixture("openai.jsonl")).unwrap().report();
    assert_eq!(openai["format"], "openai");
    assert_eq!(openai["results"][0]["content"], "spam");
    assert_eq!(openai["problems"].as_array().unwrap().len(), 3);
}

#[test]
fn crlf_lines_a_bom_and_a_final_newline_read_as_plain_lines() {
    let text = "\u{FEFF}{\"custom_id\":\"fa-r-0-0\",\"response\":{\"status_code\":200,\"body\":{\"choices\":[{\"message\":{\"content\":\"x\"}}]}},\"error\":null}\r\n\r\n{\"custom_id\":\"fa-r-1-0\",\"response\":null,\"error\":{\"message\":\"boom\"}}\r\n";
    let out = parse_output(text.as_bytes()).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.results.len(), 2);
    assert_eq!(out.results[1].line, 3);
    assert_eq!(out.results[1].error().unwrap().message, "boom");
}
