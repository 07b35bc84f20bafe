//! The master's outcome for one request, and its protobuf form on the
//! outcome topic (`daas.v1.Outcome`). The master writes it; the projector and
//! the CLI read it.

use daas_proto::v1;

use crate::{
    Address, LogPosition, ObjectId,
    admission::{RejectCode, Rejection},
    record::{RecordError, fixed},
};

/// What happened to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Cluster the request targeted.
    pub cluster_id: ObjectId,
    /// The request's per-cluster id.
    pub request_id: u64,
    /// Chain position of the request event.
    pub position: LogPosition,
    /// Transaction that carried the request.
    pub transaction_digest: [u8; 32],
    /// Applied or rejected.
    pub result: OutcomeResult,
}

/// The result of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeResult {
    /// The request took effect.
    Applied {
        /// kubectl's word: `created`, `configured`, `unchanged`, `deleted`.
        action: String,
        /// The object's etcd key.
        key: String,
        /// etcd mod_revision after the write; 0 after a delete.
        resource_version: i64,
        /// Warnings for the requester (kubectl prints each as `Warning: ...`).
        warnings: Vec<String>,
    },
    /// The request was refused and changed nothing.
    Rejected(Rejection),
}

impl RejectCode {
    /// Every code, in protobuf order (`daas.v1.RejectCode` = index + 1).
    pub const ALL: [RejectCode; 23] = [
        RejectCode::InsufficientStake,
        RejectCode::NamespaceForbidden,
        RejectCode::MalformedManifest,
        RejectCode::Oversize,
        RejectCode::UnsupportedKind,
        RejectCode::UnsupportedVerb,
        RejectCode::Conflict,
        RejectCode::NamespaceNotFound,
        RejectCode::WrongCluster,
        RejectCode::PodSecurity,
        RejectCode::ClusterScopedForbidden,
        RejectCode::InvalidName,
        RejectCode::InvalidObject,
        RejectCode::DuplicateKey,
        RejectCode::SystemNamespace,
        RejectCode::NodePinning,
        RejectCode::ImmutableField,
        RejectCode::PrivilegedNamespace,
        RejectCode::RoleEscalation,
        RejectCode::SecretUnsealed,
        RejectCode::SealingKeyUnknown,
        RejectCode::SealedBindingMismatch,
        RejectCode::SealedTampered,
    ];

    /// The protobuf enum value.
    pub fn to_proto(self) -> i32 {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .map_or(0, |i| i as i32 + 1)
    }

    /// From the protobuf enum value.
    pub fn from_proto(value: i32) -> Option<Self> {
        usize::try_from(value - 1)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

impl Outcome {
    /// The protobuf message.
    pub fn to_proto(&self) -> v1::Outcome {
        v1::Outcome {
            cluster_id: self.cluster_id.0.to_vec(),
            request_id: self.request_id,
            position: Some(v1::Position {
                checkpoint: self.position.checkpoint,
                transaction_index: self.position.transaction_index,
                event_index: self.position.event_index,
            }),
            transaction_digest: self.transaction_digest.to_vec(),
            result: Some(match &self.result {
                OutcomeResult::Applied {
                    action,
                    key,
                    resource_version,
                    warnings,
                } => v1::outcome::Result::Applied(v1::Applied {
                    action: action.clone(),
                    key: key.clone(),
                    resource_version: *resource_version,
                    warnings: warnings.clone(),
                }),
                OutcomeResult::Rejected(r) => v1::outcome::Result::Rejected(v1::Rejected {
                    code: r.code.to_proto(),
                    message: r.message.clone(),
                }),
            }),
        }
    }

    /// Encoded protobuf bytes, as produced to the outcome topic.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&self.to_proto())
    }

    /// Decodes protobuf bytes read from the outcome topic.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let o: v1::Outcome =
            prost::Message::decode(bytes).map_err(|e| RecordError::Protobuf(e.to_string()))?;
        let p = o.position.ok_or(RecordError::Missing("position"))?;
        let result = match o.result.ok_or(RecordError::Missing("result"))? {
            v1::outcome::Result::Applied(a) => OutcomeResult::Applied {
                action: a.action,
                key: a.key,
                resource_version: a.resource_version,
                warnings: a.warnings,
            },
            v1::outcome::Result::Rejected(r) => OutcomeResult::Rejected(Rejection {
                code: RejectCode::from_proto(r.code).ok_or(RecordError::Enum {
                    field: "rejected.code",
                    value: r.code,
                })?,
                message: r.message,
            }),
        };
        Ok(Self {
            cluster_id: Address(fixed::<32>("cluster_id", &o.cluster_id)?),
            request_id: o.request_id,
            position: LogPosition::new(p.checkpoint, p.transaction_index, p.event_index),
            transaction_digest: fixed::<32>("transaction_digest", &o.transaction_digest)?,
            result,
        })
    }
}

/// An outcome as JSON, for people and HTTP clients: the master's status API
/// serves it and `daas status` reads it. Ids are `0x…` hex, the digest is
/// base58 like every Sui digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutcomeView {
    /// Cluster id.
    pub cluster_id: String,
    /// The request's per-cluster id.
    pub request_id: u64,
    /// Checkpoint holding the request.
    pub checkpoint: u64,
    /// The transaction, base58.
    pub transaction_digest: String,
    /// `applied` or `rejected`.
    pub status: String,
    /// kubectl's word when applied (`created`, `configured`, `unchanged`, `deleted`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// The object's etcd key when applied.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// etcd mod_revision after the write (0 after a delete).
    #[serde(default)]
    pub resource_version: i64,
    /// The reason code when rejected (`insufficient_stake`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable detail of a rejection.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Warnings for the requester when applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl From<&Outcome> for OutcomeView {
    fn from(o: &Outcome) -> Self {
        let mut v = OutcomeView {
            cluster_id: o.cluster_id.to_string(),
            request_id: o.request_id,
            checkpoint: o.position.checkpoint,
            transaction_digest: bs58::encode(o.transaction_digest).into_string(),
            status: String::new(),
            action: String::new(),
            key: String::new(),
            resource_version: 0,
            reason: String::new(),
            message: String::new(),
            warnings: Vec::new(),
        };
        match &o.result {
            OutcomeResult::Applied {
                action,
                key,
                resource_version,
                warnings,
            } => {
                v.warnings = warnings.clone();
                v.status = "applied".into();
                v.action = action.clone();
                v.key = key.clone();
                v.resource_version = *resource_version;
            }
            OutcomeResult::Rejected(r) => {
                v.status = "rejected".into();
                v.reason = r.code.as_str().into();
                v.message = r.message.clone();
            }
        }
        v
    }
}

impl OutcomeView {
    /// True when the request took effect.
    pub fn is_applied(&self) -> bool {
        self.status == "applied"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_codes_match_the_proto_enum() {
        use daas_proto::v1::RejectCode as Pb;
        let pb = [
            Pb::InsufficientStake,
            Pb::NamespaceForbidden,
            Pb::MalformedManifest,
            Pb::Oversize,
            Pb::UnsupportedKind,
            Pb::UnsupportedVerb,
            Pb::Conflict,
            Pb::NamespaceNotFound,
            Pb::WrongCluster,
            Pb::PodSecurity,
            Pb::ClusterScopedForbidden,
            Pb::InvalidName,
            Pb::InvalidObject,
            Pb::DuplicateKey,
            Pb::SystemNamespace,
            Pb::NodePinning,
            Pb::ImmutableField,
            Pb::PrivilegedNamespace,
            Pb::RoleEscalation,
            Pb::SecretUnsealed,
            Pb::SealingKeyUnknown,
            Pb::SealedBindingMismatch,
            Pb::SealedTampered,
        ];
        for (code, pb) in RejectCode::ALL.into_iter().zip(pb) {
            assert_eq!(code.to_proto(), pb as i32, "{code:?}");
            assert_eq!(RejectCode::from_proto(pb as i32), Some(code));
        }
        assert_eq!(RejectCode::from_proto(0), None);
        assert_eq!(RejectCode::from_proto(24), None);
        let mut names: Vec<&str> = RejectCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            RejectCode::ALL.len(),
            "every code has its own name"
        );
    }

    #[test]
    fn outcomes_round_trip_and_bad_bytes_are_errors() {
        let o = Outcome {
            cluster_id: crate::Address([7; 32]),
            request_id: 42,
            position: LogPosition::new(9, 1, 2),
            transaction_digest: [3; 32],
            result: OutcomeResult::Rejected(Rejection {
                code: RejectCode::Conflict,
                message: "exists".into(),
            }),
        };
        assert_eq!(Outcome::decode(&o.encode()), Ok(o.clone()));
        let applied = Outcome {
            result: OutcomeResult::Applied {
                action: "created".into(),
                key: "/registry/pods/a/b".into(),
                resource_version: 77,
                warnings: vec!["would violate PodSecurity".into()],
            },
            ..o
        };
        assert_eq!(Outcome::decode(&applied.encode()), Ok(applied.clone()));
        let view = OutcomeView::from(&applied);
        assert!(view.is_applied());
        assert_eq!(
            view.transaction_digest,
            bs58::encode([3u8; 32]).into_string()
        );
        let json = serde_json::to_string(&view).expect("json");
        assert_eq!(serde_json::from_str::<OutcomeView>(&json).ok(), Some(view));
        let rejected = OutcomeView::from(&o);
        assert_eq!(
            (rejected.status.as_str(), rejected.reason.as_str()),
            ("rejected", "conflict")
        );
        assert!(matches!(
            Outcome::decode(b"\xff\xff"),
            Err(RecordError::Protobuf(_))
        ));
        assert_eq!(Outcome::decode(&[]), Err(RecordError::Missing("position")));
    }
}
