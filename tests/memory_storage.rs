//! The storage contract (`tests/contract`) against [`MemoryStorage`], on the
//! host. `tests/web.rs` runs the same contract against IndexedDB.
#![cfg(not(target_arch = "wasm32"))]

mod contract;

use fannotate::services::memory::MemoryStorage;

#[test]
fn memory_storage_keeps_the_storage_contract() {
    futures::executor::block_on(contract::storage_contract(async || {
        MemoryStorage::default()
    }));
}
