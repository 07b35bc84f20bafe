//! `daas::grants`: namespace grants, and cluster-admin grants recorded under
//! the reserved namespace `*` with role 2.

use daas_domain::{
    Address, ObjectId,
    events::*,
    roles::{CLUSTER_ADMIN_GRANT, NamespaceRole},
};

use super::{Abort, ContractState, Ctx, GRANTS, check, codes::*, gateway, next_seq};

impl ContractState {
    /// `grants::grant`.
    pub fn grant(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        namespace: String,
        grantee: Address,
        role: u8,
    ) -> Result<Event, Abort> {
        const F: &str = "grant";
        self.assert_admin(cap_pool_id, cluster_id, GRANTS, F)?;
        check(role <= 1, GRANTS, F, E_INVALID_NAMESPACE_ROLE)?;
        check(!namespace.is_empty(), GRANTS, F, E_EMPTY_NAMESPACE)?;
        check(
            gateway::is_dns1123_label(&namespace),
            GRANTS,
            F,
            E_GRANT_INVALID_NAMESPACE,
        )?;
        self.record_grant(ctx, cluster_id, namespace, grantee, role)
    }

    /// `grants::grant_cluster_admin`.
    pub fn grant_cluster_admin(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        grantee: Address,
    ) -> Result<Event, Abort> {
        self.assert_admin(cap_pool_id, cluster_id, GRANTS, "grant_cluster_admin")?;
        let role = NamespaceRole::ClusterAdmin.to_move();
        self.record_grant(ctx, cluster_id, CLUSTER_ADMIN_GRANT.into(), grantee, role)
    }

    /// `grants::record_grant`.
    fn record_grant(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        namespace: String,
        grantee: Address,
        role: u8,
    ) -> Result<Event, Abort> {
        let cluster = self.cluster_mut(cluster_id, GRANTS, "record_grant")?;
        cluster.grants.insert((namespace.clone(), grantee), role);
        Ok(Event::NamespaceGranted(NamespaceGranted {
            cluster_id,
            namespace,
            grantee,
            role,
            granted_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut cluster.event_seq),
        }))
    }

    /// `grants::revoke`.
    pub fn revoke(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        namespace: String,
        grantee: Address,
    ) -> Result<Event, Abort> {
        const F: &str = "revoke";
        self.assert_admin(cap_pool_id, cluster_id, GRANTS, F)?;
        let cluster = self.cluster_mut(cluster_id, GRANTS, F)?;
        check(
            cluster
                .grants
                .remove(&(namespace.clone(), grantee))
                .is_some(),
            GRANTS,
            F,
            E_NO_GRANT,
        )?;
        Ok(Event::NamespaceRevoked(NamespaceRevoked {
            cluster_id,
            namespace,
            grantee,
            revoked_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut cluster.event_seq),
        }))
    }

    /// `grants::revoke_cluster_admin` (which calls `revoke` under `*`).
    pub fn revoke_cluster_admin(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        grantee: Address,
    ) -> Result<Event, Abort> {
        self.revoke(
            ctx,
            cap_pool_id,
            cluster_id,
            CLUSTER_ADMIN_GRANT.into(),
            grantee,
        )
    }
}
