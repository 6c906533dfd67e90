"""osuus: share the costs of a host municipality's services among its neighbours, exactly."""

__version__ = "0.1.0"
