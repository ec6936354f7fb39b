import pytest

from tests.allocation.builders import make_world


@pytest.fixture
def world(db):
    """One market served by warehouses A (rank 1) and B (rank 2), and four items."""
    return make_world()
