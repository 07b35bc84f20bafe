//! The structural parse: the object must deserialize into kube's own type
//! for its kind (k8s-openapi's structs, used as a parser only), so every
//! known field has its type (an integer is an integer, a list a list, a
//! Secret's `data` base64). The error names the field path.

use k8s_openapi::{
    api::{
        admissionregistration, apps, batch, core::v1 as corev1, networking, rbac, scheduling,
        storage,
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Checked, invalid};

fn typed<T: DeserializeOwned>(object: &Value) -> Checked {
    serde_path_to_error::deserialize::<_, T>(object)
        .map(|_| ())
        .map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." {
                "(object)".to_owned()
            } else {
                path
            };
            invalid(path, e.into_inner().to_string())
        })
}

/// Parses `object` as kube's type for `kind`; kinds without one pass.
pub fn parse(kind: &str, object: &Value) -> Checked {
    use corev1 as c;
    match kind {
        "Namespace" => typed::<c::Namespace>(object),
        "Pod" => typed::<c::Pod>(object),
        "Service" => typed::<c::Service>(object),
        "ConfigMap" => typed::<c::ConfigMap>(object),
        "Secret" => typed::<c::Secret>(object),
        "ServiceAccount" => typed::<c::ServiceAccount>(object),
        "PersistentVolume" => typed::<c::PersistentVolume>(object),
        "Node" => typed::<c::Node>(object),
        "Deployment" => typed::<apps::v1::Deployment>(object),
        "ReplicaSet" => typed::<apps::v1::ReplicaSet>(object),
        "StatefulSet" => typed::<apps::v1::StatefulSet>(object),
        "DaemonSet" => typed::<apps::v1::DaemonSet>(object),
        "Job" => typed::<batch::v1::Job>(object),
        "CronJob" => typed::<batch::v1::CronJob>(object),
        "Ingress" => typed::<networking::v1::Ingress>(object),
        "Role" => typed::<rbac::v1::Role>(object),
        "RoleBinding" => typed::<rbac::v1::RoleBinding>(object),
        "ClusterRole" => typed::<rbac::v1::ClusterRole>(object),
        "ClusterRoleBinding" => typed::<rbac::v1::ClusterRoleBinding>(object),
        "StorageClass" => typed::<storage::v1::StorageClass>(object),
        "PriorityClass" => typed::<scheduling::v1::PriorityClass>(object),
        "ValidatingWebhookConfiguration" => {
            typed::<admissionregistration::v1::ValidatingWebhookConfiguration>(object)
        }
        "MutatingWebhookConfiguration" => {
            typed::<admissionregistration::v1::MutatingWebhookConfiguration>(object)
        }
        "CustomResourceDefinition" => typed::<CustomResourceDefinition>(object),
        "APIService" => typed::<APIService>(object),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_are_named_by_path() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": {"replicas": "three"}});
        let e = parse("Deployment", &d).expect_err("a string is not an int32");
        assert_eq!(e.field, "spec.replicas");
        let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                       "data": {"k": "not base64!"}});
        assert_eq!(parse("Secret", &s).expect_err("base64").field, "data.k");
        let ok = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                        "data": {"k": "v"}, "unknownField": 1});
        assert!(parse("ConfigMap", &ok).is_ok());
    }
}
