"""The request loop (诉求/事件 全周期闭环): intake, lifecycle, time limits, history."""
