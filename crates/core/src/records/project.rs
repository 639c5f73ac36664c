//! Projects, and the marker an import in progress leaves.

use serde::{Deserialize, Serialize};

/// A unit of work: one dataset, one codebook, endpoints and runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Random unique id.
    pub id: String,
    /// Name shown in the project list.
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    /// Milliseconds since the epoch.
    pub updated_at: f64,
    /// The sample project a first visit can open (marked as such in the list).
    #[serde(default)]
    pub sample: bool,
    /// The last student the Distil step trained, for the Experiments projection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentMeasure>,
}

/// What the Distil step measured of the last student it trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentMeasure {
    /// The run it learned from ([`crate::records::HUMAN_SOURCE`] for human labels).
    pub run_id: String,
    /// Whose labels it learned from (records before this field: a run's).
    #[serde(default)]
    pub teacher: crate::student::distil::TeacherKind,
    /// Rows it trained on.
    pub n_train: usize,
    /// Its accuracy on the held-out gold rows.
    pub accuracy: f64,
    /// Texts it scores per second in this browser (one thread).
    pub items_per_s: f64,
    /// When it was trained, milliseconds since the epoch.
    pub trained_at: f64,
}

/// An import in progress: its rows are written in chunks, and only become a
/// dataset when the import commits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportMarker {
    /// Dataset id the rows are written under.
    pub dataset_id: String,
    /// Project importing.
    pub project_id: String,
    /// Milliseconds since the epoch.
    pub started_at: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_kept_before_the_teacher_field_learned_from_a_run() {
        use crate::student::distil::TeacherKind;
        let old =
            r#"{"run_id":"r1","n_train":10,"accuracy":0.9,"items_per_s":100.0,"trained_at":1.0}"#;
        let m: StudentMeasure = serde_json::from_str(old).unwrap();
        assert_eq!(m.teacher, TeacherKind::Run);
        let human = StudentMeasure {
            teacher: TeacherKind::Human,
            ..m
        };
        let json = serde_json::to_string(&human).unwrap();
        assert!(json.contains(r#""teacher":"human""#));
        assert_eq!(
            serde_json::from_str::<StudentMeasure>(&json).unwrap(),
            human
        );
    }

    #[test]
    fn projects_stored_before_the_sample_flag_read_as_not_the_sample() {
        let p: Project =
            serde_json::from_str(r#"{"id":"p","name":"n","created_at":1.0,"updated_at":2.0}"#)
                .unwrap();
        assert!(!p.sample);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"id":"p","name":"n","created_at":1.0,"updated_at":2.0,"sample":false}"#
        );
    }
}
