"""The stage configuration and the register of manifest refs (no synthesis)."""

from __future__ import annotations

import pytest

from maas.manifest import EVENT_BUS, MANIFEST, PROJECT_ROOT, function_arn, setting, table_name
from stacks.config import PackagingConfig, StageConfig, StageConfigError, read_cdk_json_context
from stacks.refs import RefResolver, UnresolvedRefError

pytestmark = pytest.mark.stacks


def test_cdk_json_describes_the_stage_it_names() -> None:
    context = read_cdk_json_context(PROJECT_ROOT / "cdk.json")
    config = StageConfig.resolve(context)
    assert config.name == context["maas:stage"]


def test_every_stage_of_cdk_json_is_valid() -> None:
    context = read_cdk_json_context(PROJECT_ROOT / "cdk.json")
    for name in context["maas:stages"]:
        assert StageConfig.resolve({**context, "maas:stage": name}).name == name


def test_unknown_stage_is_refused_with_the_stages_described() -> None:
    with pytest.raises(StageConfigError, match=r"stage 'qa' is not under 'maas:stages'.*\['dev'\]"):
        StageConfig.resolve({"maas:stage": "qa", "maas:stages": {"dev": {}}})


def test_stage_defaults_to_dev() -> None:
    assert StageConfig.resolve({"maas:stages": {"dev": {}}}).name == "dev"


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(StageConfigError, match="unknown settings \\['poll'\\]"):
        StageConfig.resolve(
            {"maas:stage": "dev", "maas:stages": {"dev": {"settings": {"poll": "1"}}}}
        )


def test_retention_must_name_a_retention_days_member() -> None:
    with pytest.raises(StageConfigError, match=r"'30' is not an aws_logs\.RetentionDays"):
        StageConfig.resolve({"maas:stage": "dev", "maas:stages": {"dev": {"log_retention": "30"}}})


def test_stage_name_must_fit_in_a_bucket_name() -> None:
    with pytest.raises(StageConfigError, match="name"):
        StageConfig.resolve({"maas:stage": "Production_EU", "maas:stages": {"Production_EU": {}}})


def test_packaging_runs_on_fargate_unless_the_stage_says_ec2() -> None:
    assert StageConfig(name="dev").packaging.compute == "fargate"
    config = StageConfig.resolve(
        {"maas:stages": {"dev": {"packaging": {"compute": "ec2", "root_volume_gib": 1000}}}}
    )
    assert (config.packaging.compute, config.packaging.root_volume_gib) == ("ec2", 1000)


@pytest.mark.parametrize(
    ("packaging", "message"),
    [
        ({"compute": "gpu"}, "packaging.compute"),
        ({"instance_types": ["g5.2xlarge"]}, "'g5.2xlarge' has accelerators"),
        ({"instance_types": ["inf2.xlarge"]}, "'inf2.xlarge' has accelerators"),
        ({"instance_types": ["m7g.4xlarge"]}, "'m7g.4xlarge' is a Graviton"),
        ({"instance_types": ["large"]}, "'large' is not an EC2 instance type"),
        ({"instance_types": []}, "packaging.instance_types"),
        ({"root_volume_gib": 10}, "packaging.root_volume_gib"),
        ({"nat_gateways": 0}, "packaging.nat_gateways"),
        ({"vpc_id": "vpc-1"}, "packaging.vpc_id"),
    ],
)
def test_invalid_packaging_configuration_is_refused(
    packaging: dict[str, object], message: str
) -> None:
    with pytest.raises(StageConfigError, match=message):
        StageConfig.resolve({"maas:stages": {"dev": {"packaging": packaging}}})


def test_x86_instance_types_without_accelerators_are_accepted() -> None:
    types = ("m6i.2xlarge", "r6i.4xlarge", "c7i.8xlarge", "m7i-flex.4xlarge", "x2iedn.8xlarge")
    assert PackagingConfig(compute="ec2", instance_types=types).instance_types == types


def test_settings_fall_back_to_the_manifest_defaults() -> None:
    config = StageConfig(name="dev", settings={"endpoint_poll_seconds": "5"})
    assert config.setting("endpoint_poll_seconds") == "5"
    assert config.setting("endpoint_max_status_checks") == (
        MANIFEST.setting("endpoint_max_status_checks").default
    )


def test_refs_resolve_to_what_was_registered_and_settings_to_the_stage() -> None:
    refs = RefResolver({"endpoint_poll_seconds": "5"})
    refs.register(table_name("EndpointsTable"), "table-token")
    refs.register(EVENT_BUS, "bus-token")
    assert refs.resolve_all(
        {
            "T": table_name("EndpointsTable"),
            "B": EVENT_BUS,
            "P": setting("endpoint_poll_seconds"),
            "S": "x",
        }
    ) == {"T": "table-token", "B": "bus-token", "P": "5", "S": "x"}


def test_a_ref_asked_for_before_it_is_built_names_what_is_missing() -> None:
    with pytest.raises(UnresolvedRefError, match="function_arn 'PlanDeployment' is not built yet"):
        RefResolver({}).resolve(function_arn("PlanDeployment"))


def test_a_ref_is_registered_once() -> None:
    refs = RefResolver({})
    refs.register(EVENT_BUS, "bus-token")
    with pytest.raises(ValueError, match="already registered"):
        refs.register(EVENT_BUS, "other")


def test_alarm_thresholds_default_and_can_be_set_per_stage() -> None:
    assert StageConfig(name="dev").alarms.model_latency_ms == 30_000
    config = StageConfig.resolve(
        {
            "maas:stages": {
                "dev": {"alarms": {"gpu_memory_percent": 380, "notify_emails": ["o@x.io"]}}
            }
        }
    )
    assert (config.alarms.gpu_memory_percent, config.alarms.notify_emails) == (380, ("o@x.io",))


def test_an_alarm_address_that_is_not_one_is_refused() -> None:
    with pytest.raises(StageConfigError, match="'ops' is not an e-mail address"):
        StageConfig.resolve({"maas:stages": {"dev": {"alarms": {"notify_emails": ["ops"]}}}})
