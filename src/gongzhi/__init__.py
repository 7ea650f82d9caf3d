"""gongzhi (共治): a city's social governance platform."""

__version__ = "0.1.0"
