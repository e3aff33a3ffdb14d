"""Chinese planning language: text, unit names, deadlines (完成时限), quantities and completion rates."""
