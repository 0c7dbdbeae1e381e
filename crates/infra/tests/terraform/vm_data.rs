//! The VM's data volume: the stores' named volumes on an encrypted volume of
//! their own, mounted before Docker starts, which outlives the instance a
//! new bundle replaces; and the gate that holds it to that.

use super::*;

#[test]
fn a_vm_keeps_its_named_volumes_on_a_volume_that_outlives_the_instance() {
    let (analysis, choice) = decide(
        &stores::django_app(),
        "a small shop with postgres",
        Target::Vm,
    );
    assert!(
        !choice.services.provisioned.is_empty(),
        "the VM runs its stores: {:?}",
        choice.services
    );
    let inputs = TerraformInputs::new(choice, JOB, &analysis);
    let files = render_and_gate(&inputs);

    let volume = resource(&files, "aws_ebs_volume", "data");
    assert_eq!(text(attr(volume, "encrypted")), "true");
    assert_eq!(text(attr(volume, "type")), "gp3");
    assert_eq!(text(attr(volume, "size")), "10");
    assert_eq!(
        text(attr(volume, "final_snapshot")),
        "var.data_final_snapshot"
    );
    // Where the instance runs: the first public subnet's zone.
    assert_eq!(
        text(attr(volume, "availability_zone")),
        "aws_subnet.public[0].availability_zone"
    );
    assert_eq!(
        text(attr(resource(&files, "aws_instance", "app"), "subnet_id")),
        "aws_subnet.public[0].id"
    );
    let attachment = resource(&files, "aws_volume_attachment", "data");
    assert_eq!(
        text(attr(attachment, "volume_id")),
        "aws_ebs_volume.data.id"
    );
    assert_eq!(text(attr(attachment, "instance_id")), "aws_instance.app.id");
    assert_eq!(
        text(attr(attachment, "stop_instance_before_detaching")),
        "true"
    );
    // The root volume still goes with the instance: nothing kept is on it.
    assert_eq!(
        text(attr(
            nested(resource(&files, "aws_instance", "app"), "root_block_device"),
            "delete_on_termination"
        )),
        "true"
    );

    // Mounted where Docker keeps named volumes before Docker is installed,
    // formatted only when blank, and again at every boot.
    let user_data = text(local(&files, "user_data"));
    let at = |needle: &str| {
        user_data
            .find(needle)
            .unwrap_or_else(|| panic!("user_data lacks {needle:?}:\n{user_data}"))
    };
    let mount = at("mount /var/lib/docker/volumes");
    assert!(at("blkid \"$data_device\" >/dev/null || mkfs.ext4") < mount);
    assert!(at("LABEL=deployflow-data /var/lib/docker/volumes ext4 defaults,nofail") < mount);
    assert!(mount < at("apt-get install -y docker-ce"));
    assert!(mount < at("make -C /opt/deployflow/app up"));
    assert!(at("data_device='${local.data_device}'") < mount);
    assert!(text(local(&files, "data_device")).contains(
        "nvme-Amazon_Elastic_Block_Store_${replace(aws_ebs_volume.data.id, \"-\", \"\")}"
    ));
}

#[test]
fn the_gate_refuses_an_unencrypted_large_costly_or_restored_data_volume() {
    let inputs = inputs(Target::Vm);
    let policy = Policy::for_choice(&inputs.choice);
    let rendered = render(&inputs).unwrap();
    for (from, to, rule) in [
        (
            "encrypted         = true",
            "encrypted         = false",
            Rule::StoreExposure,
        ),
        (
            "size              = 10",
            "size              = 4096",
            Rule::SizeNotBounded,
        ),
        (
            "size              = 10",
            "size              = var.size",
            Rule::SizeNotBounded,
        ),
        (
            "type              = \"gp3\"",
            "type              = \"io2\"",
            Rule::SizeNotBounded,
        ),
        (
            "encrypted         = true",
            "encrypted         = true\n  snapshot_id       = \"snap-0123456789abcdef0\"",
            Rule::ForeignResource,
        ),
        (
            "volume_id   = aws_ebs_volume.data.id",
            "volume_id   = \"vol-0123456789abcdef0\"",
            Rule::ForeignResource,
        ),
    ] {
        assert_data_edit_refused(&rendered, &policy, from, to, rule);
    }
}

/// Daily snapshots of the data volume, by Data Lifecycle Manager, under a
/// role only it assumes.
#[test]
fn a_vm_data_volume_is_snapshotted_daily_by_its_own_schedule() {
    let (analysis, choice) = decide(
        &stores::django_app(),
        "a small shop with postgres",
        Target::Vm,
    );
    let inputs = TerraformInputs::new(choice, JOB, &analysis);
    let files = render_and_gate(&inputs);

    let schedule = resource(&files, "aws_dlm_lifecycle_policy", "data");
    assert_eq!(text(attr(schedule, "state")), "ENABLED");
    assert_eq!(
        text(attr(schedule, "execution_role_arn")),
        "aws_iam_role.snapshots.arn"
    );
    let details = nested(schedule, "policy_details");
    assert_eq!(
        text(attr(details, "resource_types")).replace(char::is_whitespace, ""),
        "[\"VOLUME\"]"
    );
    // The tag the data volume carries.
    assert!(text(attr(details, "target_tags")).contains("\"${local.name}-data\""));
    assert!(
        text(attr(resource(&files, "aws_ebs_volume", "data"), "tags"))
            .contains("\"${local.name}-data\"")
    );
    let schedule_rule = nested(details, "schedule");
    assert_eq!(
        text(attr(nested(schedule_rule, "create_rule"), "interval")),
        "24"
    );
    assert_eq!(
        text(attr(nested(schedule_rule, "retain_rule"), "count")),
        "var.data_snapshots_kept"
    );
    let role = resource(&files, "aws_iam_role_policy_attachment", "snapshots");
    assert!(
        text(attr(role, "policy_arn"))
            .ends_with(":iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole")
    );
}

/// The schedule snapshots this deployment's volumes and keeps a bounded
/// number, in the account: every other form is refused.
#[test]
fn the_gate_refuses_a_schedule_that_shares_copies_or_selects_other_volumes() {
    let inputs = inputs(Target::Vm);
    let policy = Policy::for_job(&inputs.choice, JOB);
    let rendered = render(&inputs).unwrap();
    for (from, to, rule) in [
        (
            "copy_tags = true",
            "copy_tags = true\n      share_rule {\n        target_accounts = [\"111122223333\"]\n      }",
            Rule::ArgumentNotAllowed,
        ),
        (
            "copy_tags = true",
            "copy_tags = true\n      cross_region_copy_rule {\n        target    = \"us-east-1\"\n        encrypted = false\n      }",
            Rule::ArgumentNotAllowed,
        ),
        (
            "resource_types = [\"VOLUME\"]",
            "resource_types = [\"VOLUME\"]\n    policy_type    = \"EVENT_BASED_POLICY\"",
            Rule::ArgumentNotAllowed,
        ),
        (
            "Name = \"${local.name}-data\"\n    }\n\n    schedule",
            "Name = \"prod-db\"\n    }\n\n    schedule",
            Rule::ForeignResource,
        ),
        (
            "resource_types = [\"VOLUME\"]",
            "resource_types = [\"INSTANCE\"]",
            Rule::ForeignResource,
        ),
        (
            "count = var.data_snapshots_kept",
            "count = 1000",
            Rule::SizeNotBounded,
        ),
        (
            "default     = 7\n",
            "default     = 5000\n",
            Rule::SizeNotBounded,
        ),
        // Its managed policy on a role EC2 (the app's instance) assumes,
        // alone or beside Data Lifecycle Manager.
        (
            "identifiers = [\"dlm.amazonaws.com\"]",
            "identifiers = [\"dlm.amazonaws.com\", \"ec2.amazonaws.com\"]",
            Rule::IamManagedPolicy,
        ),
        (
            "role       = aws_iam_role.snapshots.name",
            "role       = aws_iam_role.app.name",
            Rule::IamManagedPolicy,
        ),
    ] {
        assert_data_edit_refused(&rendered, &policy, from, to, rule);
    }
}

/// `data.tf` of `rendered` with the first `from` made `to` breaks `rule`.
fn assert_data_edit_refused(
    rendered: &BTreeMap<String, String>,
    policy: &Policy,
    from: &str,
    to: &str,
    rule: Rule,
) {
    let mut files = rendered.clone();
    let data = files.get_mut("data.tf").unwrap();
    assert!(data.contains(from), "data.tf has no {from:?}:\n{data}");
    *data = data.replacen(from, to, 1);
    let report = check(&files, policy);
    assert!(
        report.rules().contains(&rule),
        "{to:?}: {:#?}",
        report.violations
    );
}

/// A job id whose slug would hold twelve digits in a row (`251171593205`)
/// reads as an AWS account's number to the gate: its names do not hold
/// one, and its Terraform passes, on every target.
#[test]
fn a_job_id_with_an_account_like_run_of_digits_renders_gated_terraform() {
    let job = "01a25117-f732-73eb-a161-8a051593205b";
    for target in Target::ALL {
        let (analysis, choice) = decide(&express_app(), "a public API", target);
        let inputs = TerraformInputs::new(choice, job, &analysis);
        render_and_gate(&inputs);
    }
}
