//! Property tests of batch files: a run exported, answered by a simulated
//! engine (in any order, with failures) and read back gives exactly what the
//! live runner would have kept for the same answers; ids round-trip; splitting
//! keeps every line once and every part within its limits.

use fannotate_core::batch::{
    parse_output, BatchRequests, CustomId, Merger, PartWriter, SplitLimits, MAX_CUSTOM_ID_LEN,
    MAX_RUN_ID_LEN,
};
use fannotate_core::chat::{Completion, RowRequest};
use fannotate_core::records::{
    Annotation, ChatAnswer, EndpointConfig, Failure, Provider, RunRecord,
};
use fannotate_core::{Attribute, Category, Constraint};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

const RUN: &str = "19a2b3c4d5e6f708192a3b4c";

fn spam() -> Attribute {
    Attribute::categorical(
        "spam",
        "Categories:\n<<categories>>\nText: <<text>>\nAnswer:",
        vec![
            Category::new("ham", "normal \"mail\""),
            Category::new("spam", "bulk"),
        ],
    )
}

/// How the engine answers one request.
#[derive(Debug, Clone)]
enum Reply {
    /// A chat completion with this content, maybe usage and a logprob.
    Answer {
        content: String,
        usage: Option<(u32, u32)>,
        logprob: Option<f64>,
    },
    /// A non-2xx response.
    Status(u16),
    /// The engine's own error.
    Engine,
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        8 => (
            prop_oneof![
                Just("spam".to_string()),
                Just("ham".to_string()),
                Just(" Spam.".to_string()),
                Just("{\"label\": \"ham\"}".to_string()),
                Just("maybe".to_string()),
                Just(String::new()),
                "\\PC{0,12}",
            ],
            proptest::option::of((0u32..5000, 0u32..50)),
            proptest::option::of(-5.0f64..0.0),
        )
            .prop_map(|(content, usage, logprob)| Reply::Answer { content, usage, logprob }),
        1 => prop_oneof![Just(400u16), Just(429), Just(500)].prop_map(Reply::Status),
        1 => Just(Reply::Engine),
    ]
}

/// The chat completion body a server sends for `content`.
fn completion_body(content: &str, usage: Option<(u32, u32)>, logprob: Option<f64>) -> Value {
    let mut choice = json!({"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"});
    if let Some(lp) = logprob {
        choice["logprobs"] = json!({"content": [{"token": content, "logprob": lp}]});
    }
    let mut body = json!({"id": "cmpl", "object": "chat.completion", "choices": [choice]});
    if let Some((i, o)) = usage {
        body["usage"] = json!({"prompt_tokens": i, "completion_tokens": o});
    }
    body
}

fn endpoint(
    constraint: Constraint,
    replications: u32,
    logprobs: bool,
    seed: Option<u64>,
) -> EndpointConfig {
    let mut c = EndpointConfig::new("p", Provider::Vllm, None, Some("m"));
    c.constraint = constraint;
    c.replications = replications;
    c.logprobs = logprobs;
    c.seed = seed;
    c.system_prompt = Some("Answer with one word.".into());
    c.max_text_chars = 40;
    c
}

/// Writes into one shared buffer per part, so the test can read them back.
struct Part(Rc<RefCell<Vec<Vec<u8>>>>, usize);

impl Write for Part {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut()[self.1].extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Split `lines` within `limits`, returning each part's bytes.
fn split(lines: &[String], limits: SplitLimits) -> Vec<Vec<u8>> {
    let parts = Rc::new(RefCell::new(Vec::new()));
    let sink = parts.clone();
    let mut w = PartWriter::new(limits, move |i| {
        sink.borrow_mut().push(Vec::new());
        assert_eq!(sink.borrow().len(), i + 1, "parts open in order");
        Ok(Part(sink.clone(), i))
    });
    for l in lines {
        w.write_line(l).unwrap();
    }
    let summary = w.finish().unwrap();
    let parts = parts.borrow().clone();
    assert_eq!(summary.len(), parts.len());
    for (s, p) in summary.iter().zip(&parts) {
        assert_eq!(s.bytes, p.len());
        assert_eq!(s.lines, p.iter().filter(|&&b| b == b'\n').count());
    }
    parts
}

fn check_parts(
    parts: &[Vec<u8>],
    lines: &[String],
    limits: SplitLimits,
) -> Result<(), TestCaseError> {
    for p in parts {
        prop_assert!(!p.is_empty(), "no empty part");
        prop_assert!(p.len() <= limits.bytes);
        prop_assert!(p.iter().filter(|&&b| b == b'\n').count() <= limits.lines);
    }
    let joined: Vec<u8> = parts.concat();
    let expected: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.bytes().chain([b'\n']))
        .collect();
    prop_assert_eq!(joined, expected, "every line once, in order");
    Ok(())
}

/// What a run keeps of an annotation, apart from failure messages (a live
/// failure is worded by the app's client, a batch one by its output line).
fn kept(a: &Annotation) -> impl PartialEq + std::fmt::Debug {
    (
        a.row,
        a.status,
        a.value.clone(),
        a.tokens_in,
        a.tokens_out,
        a.tokens_estimated,
        a.confidence,
        a.agreement,
        a.replica_values.clone(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_batch_round_trip_keeps_what_a_live_run_keeps(
        texts in prop::collection::vec("\\PC{0,60}", 1..12),
        constraint in prop::sample::select(Constraint::ALL.to_vec()),
        replications in 1u32..4,
        logprobs in any::<bool>(),
        seed in proptest::option::of(0u64..1000),
        replies in prop::collection::vec(reply(), 40),
        order in prop::collection::vec(any::<u64>(), 40),
        max_lines in 1usize..7,
        spare_bytes in 0usize..3000,
        cut in any::<prop::sample::Index>(),
    ) {
        let (cfg, attribute) = (endpoint(constraint, replications, logprobs, seed), spam());
        let rows: Vec<(u32, &str)> = texts.iter().enumerate().map(|(i, t)| (i as u32 * 3, t.as_str())).collect();
        let requests = BatchRequests::new(RUN, &cfg, &attribute).unwrap();
        let lines: Vec<String> = requests.openai_lines(rows.iter().copied()).collect();
        prop_assert_eq!(lines.len(), rows.len() * replications as usize);

        // Export, cut into files.
        let longest = lines.iter().map(|l| l.len() + 1).max().unwrap();
        let limits = SplitLimits { lines: max_lines, bytes: longest + spare_bytes };
        let parts = split(&lines, limits);
        check_parts(&parts, &lines, limits)?;

        // The engine reads every part and answers each line, in its own order.
        let text_of: HashMap<u32, &str> = rows.iter().copied().collect();
        let mut answered: Vec<(u64, String)> = Vec::new();
        let mut replies_by_key: HashMap<(u32, u32), Reply> = HashMap::new();
        for (n, line) in parts.concat().split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
            let req: Value = serde_json::from_slice(line).unwrap();
            let id = CustomId::parse(req["custom_id"].as_str().unwrap()).unwrap();
            prop_assert_eq!(&req["url"], "/v1/chat/completions");
            // Byte for byte what the live runner sends for this request.
            let live = RowRequest::new(&cfg, &attribute, text_of[&id.row()], id.replication()).body(&cfg);
            let line_text = std::str::from_utf8(line).unwrap();
            let tail = format!(",\"body\":{live}}}");
            prop_assert!(line_text.ends_with(&tail));
            let reply = replies[n % replies.len()].clone();
            let out = match &reply {
                Reply::Answer { content, usage, logprob } => json!({
                    "id": format!("req_{n}"), "custom_id": id.to_string(),
                    "response": {"status_code": 200, "request_id": format!("r{n}"), "body": completion_body(content, *usage, *logprob)},
                    "error": null,
                }),
                Reply::Status(s) => json!({
                    "id": format!("req_{n}"), "custom_id": id.to_string(),
                    "response": {"status_code": s, "body": {"error": {"message": "busy", "type": "server_error"}}},
                    "error": null,
                }),
                Reply::Engine => json!({
                    "id": format!("req_{n}"), "custom_id": id.to_string(), "response": null,
                    "error": {"code": "batch_expired", "message": "expired"},
                }),
            };
            replies_by_key.insert((id.row(), id.replication()), reply);
            answered.push((order[n % order.len()], out.to_string()));
        }
        answered.sort();
        let file = answered.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n");

        // Read back: every request answered once, nothing else.
        let output = parse_output(file.as_bytes()).unwrap();
        prop_assert!(output.problems.is_empty(), "{:?}", output.problems);
        let asked = |row: u32, k: u32| text_of.contains_key(&row) && k < replications;
        let (ours, problems) = output.for_run(RUN, asked);
        prop_assert!(problems.is_empty());
        prop_assert_eq!(ours.len(), lines.len());
        let mut batch: HashMap<(u32, u32), Result<ChatAnswer, Failure>> = HashMap::new();
        for (id, r) in ours {
            let request = RowRequest::new(&cfg, &attribute, text_of[&id.row()], id.replication());
            batch.insert((id.row(), id.replication()), r.answer(request.prompt_chars(), cfg.logprobs));
        }

        // The live runner on the same answers, row by row.
        let mut lives: HashMap<u32, Annotation> = HashMap::new();
        for &(row, text) in &rows {
            let mut live_results = Vec::new();
            let mut batch_results = Vec::new();
            for k in 0..replications {
                let request = RowRequest::new(&cfg, &attribute, text, k);
                let live = match &replies_by_key[&(row, k)] {
                    Reply::Answer { content, usage, logprob } => {
                        // As the app reads a response: the body text, parsed.
                        let sent = completion_body(content, *usage, *logprob).to_string();
                        let v: Value = serde_json::from_str(&sent).unwrap();
                        Ok(Completion::from_chat_completion(&v).unwrap().into_answer(request.prompt_chars(), cfg.logprobs, 0.0))
                    }
                    _ => Err(Failure { message: "failed".into(), raw: String::new() }),
                };
                let from_batch = batch.remove(&(row, k)).unwrap();
                match (&live, &from_batch) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(_), Err(_)) => {}
                    _ => prop_assert!(false, "row {} replication {}: {:?} vs {:?}", row, k, live, from_batch),
                }
                live_results.push(live);
                batch_results.push(from_batch);
            }
            let live = Annotation::from_answers("d", RUN, &attribute, row, &live_results, 0.0);
            let imported = Annotation::from_answers("d", RUN, &attribute, row, &batch_results, 0.0);
            prop_assert_eq!(kept(&live), kept(&imported));
            lives.insert(row, live);
        }
        prop_assert!(batch.is_empty());

        // The app's way: the output in two files imported one after the other,
        // the rows answered in part kept in the stored run between them.
        let lines_out: Vec<&str> = file.split('\n').collect();
        let at = cut.index(lines_out.len() + 1);
        let mut run: RunRecord = serde_json::from_value(json!({
            "id": RUN, "project_id": "p", "dataset_id": "d", "attribute": "spam",
            "codebook_version": 1, "endpoint": cfg, "status": "WaitingForBatch",
            "total": rows.len(), "valid": 0, "invalid": 0, "failed": 0, "started_at": 0.0,
            "finished_at": null, "error": null,
            "task_rows": rows.iter().map(|&(r, _)| [r, r + 1]).collect::<Vec<_>>(),
            "batch": {"engine": "OpenAi", "replications": replications, "parts": []},
        })).unwrap();
        let mut merged: HashMap<u32, Annotation> = HashMap::new();
        for part in [&lines_out[..at], &lines_out[at..]] {
            let text = part.join("\n");
            let Ok(out) = parse_output(text.as_bytes()) else {
                prop_assert!(part.iter().all(|l| l.is_empty()));
                continue;
            };
            let mut m = Merger::new(&run, &attribute);
            for r in &out.results {
                let prompt = |id: &CustomId| RowRequest::new(&cfg, &attribute, text_of[&id.row()], id.replication()).prompt_chars();
                if let Some(a) = m.push(r, |row| merged.contains_key(&row), prompt, 0.0).unwrap() {
                    prop_assert!(merged.insert(a.row, a).is_none(), "a row is applied once");
                }
            }
            let partial = m.partial();
            run.batch.as_mut().unwrap().partial = partial;
            run = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
        }
        prop_assert!(run.batch.as_ref().unwrap().partial.is_empty(), "every row is complete");
        prop_assert_eq!(merged.len(), rows.len());
        for (row, live) in &lives {
            prop_assert_eq!(kept(live), kept(&merged[row]));
        }
    }

    #[test]
    fn custom_ids_round_trip_within_the_limits(
        run in "[A-Za-z0-9_-]{1,39}",
        row in any::<u32>(),
        replication in any::<u32>(),
    ) {
        prop_assert!(run.len() <= MAX_RUN_ID_LEN);
        let id = CustomId::new(&run, row, replication).unwrap();
        let s = id.to_string();
        prop_assert!(s.len() <= MAX_CUSTOM_ID_LEN);
        prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let back = CustomId::parse(&s).unwrap();
        prop_assert_eq!(back.run_id(), run.as_str());
        prop_assert_eq!((back.row(), back.replication()), (row, replication));
    }

    #[test]
    fn an_id_that_parses_is_the_only_spelling_of_its_request(s in "(fa-)?[A-Za-z0-9_+-]{0,20}") {
        if let Ok(id) = CustomId::parse(&s) {
            prop_assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn splitting_keeps_every_line_once_within_the_limits(
        lens in prop::collection::vec(0usize..300, 0..400),
        max_lines in 1usize..60,
        spare in 0usize..2000,
    ) {
        let lines: Vec<String> = lens.iter().enumerate().map(|(i, n)| format!("{i}:{}", "x".repeat(*n))).collect();
        let longest = lines.iter().map(|l| l.len() + 1).max().unwrap_or(1);
        let limits = SplitLimits { lines: max_lines, bytes: longest + spare };
        let parts = split(&lines, limits);
        check_parts(&parts, &lines, limits)?;
        // A part ends only where the next line would not fit.
        let sizes: Vec<(usize, usize)> = parts.iter().map(|p| (p.iter().filter(|&&b| b == b'\n').count(), p.len())).collect();
        let mut next = 0;
        for (i, (n, bytes)) in sizes.iter().enumerate() {
            next += n;
            if i + 1 < sizes.len() {
                prop_assert!(*n == limits.lines || bytes + lines[next].len() + 1 > limits.bytes);
            }
        }
    }
}
