//! `daas::nodes`: register and deregister worker nodes.

use daas_domain::{Bytes, events::*};

use super::{Abort, ContractState, Ctx, NODES, Node, check, codes::*, next_seq};

impl ContractState {
    /// `nodes::register_node`.
    pub fn register_node(
        &mut self,
        ctx: Ctx,
        node_name: String,
        public_key: Vec<u8>,
        endpoint: String,
    ) -> Result<Event, Abort> {
        const F: &str = "register_node";
        check(!node_name.is_empty(), NODES, F, E_EMPTY_NODE_NAME)?;
        check(public_key.len() == 32, NODES, F, E_BAD_NODE_KEY)?;
        check(
            self.has_active_node_stake(ctx.sender),
            NODES,
            F,
            E_NO_NODE_STAKE,
        )?;
        check(
            !self.nodes.contains_key(&node_name),
            NODES,
            F,
            E_NODE_EXISTS,
        )?;
        self.nodes.insert(
            node_name.clone(),
            Node {
                operator: ctx.sender,
                public_key: Bytes(public_key.clone()),
                endpoint: endpoint.clone(),
            },
        );
        Ok(Event::NodeRegistered(NodeRegistered {
            operator: ctx.sender,
            node_name,
            public_key: Bytes(public_key),
            endpoint,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.nodes_event_seq),
        }))
    }

    /// `nodes::deregister_node`.
    pub fn deregister_node(&mut self, ctx: Ctx, node_name: String) -> Result<Event, Abort> {
        const F: &str = "deregister_node";
        let Some(node) = self.nodes.get(&node_name) else {
            return Err(Abort {
                module: NODES,
                function: F,
                code: E_UNKNOWN_NODE,
            });
        };
        check(node.operator == ctx.sender, NODES, F, E_NOT_OPERATOR)?;
        self.nodes.remove(&node_name);
        Ok(Event::NodeDeregistered(NodeDeregistered {
            operator: ctx.sender,
            node_name,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.nodes_event_seq),
        }))
    }
}
