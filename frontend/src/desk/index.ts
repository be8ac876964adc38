// The agent desk's entry: desk.html mounts <relais-desk>.
import "./desk/desk.js";
