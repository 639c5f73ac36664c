//! Any answer text against the original codebook's awkward category names.
#![no_main]
use fannotate_core::parse_answer;
use libfuzzer_sys::fuzz_target;

const CATEGORIES: [&str; 9] = [
    "Mobil", "Forsikring", "Annet/Ikke_oppgitt", "E-post", "Bredbånd-mobilt", "Tjenester/Apper", "Bredbånd", "TV", "Telefoni",
];

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_answer(s, &CATEGORIES);
    }
});
