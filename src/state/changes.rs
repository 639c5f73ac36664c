//! What a write changed, so that only the reads of it run again (issue #15:
//! one global counter reloaded every open view after every write).

use leptos::prelude::*;

/// A kind of stored record that reads depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// The project list (names, sizes).
    Projects,
    /// The open project's dataset: its metadata and rows.
    Dataset,
    /// Its codebook versions.
    Codebook,
    /// Its saved endpoint.
    Endpoint,
    /// Its runs.
    Runs,
    /// Its experiments.
    Experiments,
    /// Its labels, the model's and the humans'.
    Annotations,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 7] = [
        Topic::Projects,
        Topic::Dataset,
        Topic::Codebook,
        Topic::Endpoint,
        Topic::Runs,
        Topic::Experiments,
        Topic::Annotations,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// One change counter per topic; `Copy`, one arena handle wide.
#[derive(Clone, Copy)]
pub struct Changes {
    counters: StoredValue<[RwSignal<u64>; 7]>,
}

impl Changes {
    /// Counters at zero.
    pub fn new() -> Self {
        Changes {
            counters: StoredValue::new(std::array::from_fn(|_| RwSignal::new(0))),
        }
    }

    /// Subscribe the running read to `topics`.
    pub fn track(&self, topics: &[Topic]) {
        for t in topics {
            self.counters.with_value(|c| c[t.index()].track());
        }
    }

    /// Say that stored records of `topics` changed.
    pub fn touch(&self, topics: &[Topic]) {
        for t in topics {
            self.counters
                .with_value(|c| c[t.index()].update(|n| *n += 1));
        }
    }

    /// How often `topic` changed (untracked).
    #[cfg(test)]
    fn count(&self, topic: Topic) -> u64 {
        self.counters
            .with_value(|c| c[topic.index()].get_untracked())
    }
}

impl Default for Changes {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reruns_only_the_reads_of_its_topic() {
        let owner = Owner::new();
        owner.with(|| {
            let changes = Changes::new();
            let (runs_reads, codebook_reads) = (RwSignal::new(0), RwSignal::new(0));
            let runs = Memo::new(move |_| {
                changes.track(&[Topic::Runs, Topic::Annotations]);
                runs_reads.update_untracked(|n| *n += 1);
            });
            let codebook = Memo::new(move |_| {
                changes.track(&[Topic::Codebook]);
                codebook_reads.update_untracked(|n| *n += 1);
            });
            let read = || {
                runs.get();
                codebook.get();
                (runs_reads.get_untracked(), codebook_reads.get_untracked())
            };
            assert_eq!(read(), (1, 1));
            changes.touch(&[Topic::Annotations]);
            assert_eq!(read(), (2, 1));
            changes.touch(&[Topic::Codebook]);
            assert_eq!(read(), (2, 2));
            changes.touch(&[Topic::Experiments]);
            assert_eq!(read(), (2, 2));
            assert_eq!(changes.count(Topic::Annotations), 1);
        });
    }
}
