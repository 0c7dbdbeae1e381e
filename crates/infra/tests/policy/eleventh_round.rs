//! An eleventh round of attacks: the app's settings carried into tags
//! through the parameters that hold them, an instance in another team's
//! placement group, a database on another team's parameter group, and a
//! pod volume the node mounts from an outside server.

use super::*;

#[test]
fn an_eleventh_round_of_attacks_is_refused() {
    let vm = vm_policy();
    let kubernetes = Policy::for_choice(&choice(Target::Kubernetes));
    let container_service = Policy::for_choice(&choice(Target::ContainerService));
    assert_each_refused(vec![
        (
            "the settings' values as tags, read through the parameters holding them",
            "resource \"aws_ssm_parameter\" \"index\" {\n  name  = \"/deployflow/x/index\"\n  type  = \"String\"\n  value = \"index\"\n  tags  = { for name in local.env_keys : name => aws_ssm_parameter.env[name].value }\n}\n\noutput \"index_tags\" {\n  value = aws_ssm_parameter.index.tags_all\n}\n".to_owned(),
            &[Rule::SecretExposure],
            &vm,
        ),
        (
            "an instance in another team's placement group",
            format!("resource \"aws_instance\" \"x\" {{\n  {INSTANCE}\n  placement_group = \"prod-db-cluster\"\n}}\n"),
            &[Rule::ForeignResource],
            &vm,
        ),
        (
            "a database on another team's parameter group",
            "resource \"aws_db_instance\" \"x\" {\n  identifier_prefix        = \"x-\"\n  instance_class           = \"db.t4g.micro\"\n  allocated_storage        = 20\n  storage_encrypted        = true\n  skip_final_snapshot      = true\n  engine_lifecycle_support = \"open-source-rds-extended-support-disabled\"\n  db_subnet_group_name     = aws_db_subnet_group.x.name\n  vpc_security_group_ids   = [aws_security_group.x.id]\n  parameter_group_name     = \"prod-postgres17\"\n}\n".to_owned(),
            &[Rule::ForeignResource],
            &container_service,
        ),
        (
            "a pod volume the node mounts from an outside NFS server",
            deployment(
                "        volume {\n          name = \"assets\"\n          nfs {\n            server = \"203.0.113.9\"\n            path   = \"/exports/assets\"\n          }\n        }",
                "",
            ),
            &[Rule::PodPrivilege],
            &kubernetes,
        ),
    ]);
    // Scratch space and the app's own Secret stay allowed.
    assert_passes(
        &deployment(
            "        volume {\n          name = \"scratch\"\n          empty_dir {}\n        }",
            "",
        ),
        &kubernetes,
    );
}
