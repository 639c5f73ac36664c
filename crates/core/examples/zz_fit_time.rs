use fannotate_core::student::distil::APP_FIT;
use fannotate_core::student::{fit_labels, HashingSpec, SparseVec};
use std::time::Instant;
fn main() {
    let file = std::env::args().nth(1).unwrap();
    let mut rdr = csv::Reader::from_path(file).unwrap();
    let mut texts = vec![];
    let mut labels = vec![];
    for r in rdr.records() {
        let r = r.unwrap();
        texts.push(r[1].to_string());
        labels.push(r[2].to_string());
    }
    let spec = HashingSpec::default();
    let t0 = Instant::now();
    let x: Vec<SparseVec> = texts.iter().map(|t| spec.transform(t)).collect();
    let t1 = Instant::now();
    let fit = fit_labels(spec, &x, &labels, None, &APP_FIT).unwrap();
    let t2 = Instant::now();
    let nnz: usize = x.iter().map(|v| v.nnz()).sum();
    println!(
        "nnz {nnz} features {:.3}s fit {:.3}s {:?}",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        fit.report
    );
}
