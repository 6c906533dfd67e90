import pytest

from osuus.engine import allocate
from tests.billing.small import small_agreement


@pytest.fixture(scope="session")
def agreement():
    return small_agreement()


@pytest.fixture(scope="session")
def allocation(agreement):
    result = allocate(agreement)
    assert not result.problems
    return result
