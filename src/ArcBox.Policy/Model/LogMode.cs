namespace ArcBox.Policy.Model;

public enum LogMode
{
    Denied,
    All,
    None,
}
