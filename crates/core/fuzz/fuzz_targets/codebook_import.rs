//! Any bytes as a codebook file: import must not panic, and whatever imports
//! must export and re-import to the same codebook.
#![no_main]
use fannotate_core::Codebook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(cb) = Codebook::from_json(s) {
            let _ = cb.validate();
            let again = Codebook::from_json(&cb.to_json()).expect("our own export must import");
            assert_eq!(again, cb);
        }
    }
});
